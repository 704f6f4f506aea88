//! Where RPC replies are rendered beside the node: the node hands over what is left of an
//! expensive reply ([`Output::RpcRender`](rbtcd_core::node::Output::RpcRender)), pure work on
//! data it no longer needs, and this pool runs it on blocking threads, at most
//! `rpcmaxconcurrentreqs` at once (lookups the server answers itself run here too,
//! [`super::lookups`]). A reply over the limit waits for a free worker; none is
//! dropped, and the node goes on answering other calls meanwhile.

use rbtcd_core::rpc::render::ReplyJob;
use smol::channel::Sender;
use smol::lock::Semaphore;
use std::sync::Arc;

/// btcd's default `rpcmaxconcurrentreqs`.
const DEFAULT_WORKERS: usize = 20;

/// The workers that render replies.
#[derive(Clone)]
pub struct RenderPool {
    workers: Arc<Semaphore>,
}

impl RenderPool {
    /// A pool rendering up to `workers` replies at once (at least one).
    pub fn new(workers: usize) -> RenderPool {
        RenderPool {
            workers: Arc::new(Semaphore::new(workers.max(1))),
        }
    }

    /// Renders `job` when a worker is free and sends the body to `reply`.
    pub fn render(&self, job: ReplyJob, reply: Sender<String>) {
        let pool = self.clone();
        smol::spawn(async move {
            let body = pool.run(move || job.finish()).await;
            // A caller that went away no longer waits.
            let _ = reply.try_send(body);
        })
        .detach();
    }

    /// Runs `work` on a blocking thread once a worker is free.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> T {
        let _worker = self.workers.acquire_arc().await;
        smol::unblock(work).await
    }
}

impl Default for RenderPool {
    fn default() -> RenderPool {
        RenderPool::new(DEFAULT_WORKERS)
    }
}
