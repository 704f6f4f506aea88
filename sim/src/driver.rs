//! A node's task on its madsim host: binds the P2P port, accepts and dials connections (madsim
//! endpoints carrying exactly the framed bytes a TCP socket would), and feeds the node its events
//! and timer ticks one at a time, as the driver contract says.

use crate::world::{Action, Event, Shared};
use futures::future::{select, Either};
use madsim::net::Endpoint;
use rbtcd_core::net::peer::Direction;
use std::pin::pin;
use std::time::Duration;

/// Failed dials are reported between 1 s and this much more later.
const FAILED_DIAL_SPREAD_MS: u64 = 20_000;

/// Runs node `i` until it stops or its host is killed.
pub async fn run_node(world: Shared, i: usize) {
    let (addr, latency_ms) = {
        let w = world.lock();
        (w.slots[i].addr, w.plan.latency_ms)
    };
    let endpoint = Endpoint::bind(addr)
        .await
        .expect("a node's own address binds");
    let (events, queue) = async_channel::unbounded();
    let Some(actions) = world.lock().start_node(i, events.clone()) else {
        return;
    };
    perform(&endpoint, &events, latency_ms, actions);
    let (listener, inbound) = (endpoint.clone(), events.clone());
    madsim::task::spawn_local(async move {
        // madsim's endpoint connections are reliable and ordered, like TCP.
        while let Ok((tx, rx, addr)) = listener.accept1().await {
            let event = Event::Opened {
                tx,
                rx,
                addr,
                direction: Direction::Inbound,
            };
            if inbound.send(event).await.is_err() {
                return;
            }
        }
    });
    loop {
        let deadline = world.lock().deadline(i);
        let event = match deadline {
            Some(at) => {
                let next = pin!(queue.recv());
                match select(next, pin!(madsim::time::sleep_until(at))).await {
                    Either::Left((event, _)) => event.ok(),
                    Either::Right(_) => Some(Event::Tick),
                }
            }
            None => queue.recv().await.ok(),
        };
        let Some(event) = event else { return };
        let actions = world.lock().on_event(i, event);
        if actions.iter().any(|a| matches!(a, Action::Stop)) {
            return;
        }
        perform(&endpoint, &events, latency_ms, actions);
    }
}

/// Starts the connection work the node asked for.
fn perform(
    endpoint: &Endpoint,
    events: &async_channel::Sender<Event>,
    latency_ms: (u64, u64),
    actions: Vec<Action>,
) {
    for action in actions {
        let events = events.clone();
        match action {
            Action::Dial(addr) => {
                let endpoint = endpoint.clone();
                madsim::task::spawn_local(async move {
                    // madsim opens connections instantly; TCP's handshake takes a round trip.
                    let (lo, hi) = latency_ms;
                    let rtt = 2 * (lo + madsim::rand::random::<u64>() % (hi - lo).max(1));
                    madsim::time::sleep(Duration::from_millis(rtt)).await;
                    let event = match endpoint.connect1(addr).await {
                        Ok((tx, rx)) => Event::Opened {
                            tx,
                            rx,
                            addr,
                            direction: Direction::Outbound,
                        },
                        Err(_) => {
                            // madsim refuses at once; a real dial to a host that is down or
                            // cut off fails only after SYN retries or the dial timeout.
                            let ms = 1_000 + madsim::rand::random::<u64>() % FAILED_DIAL_SPREAD_MS;
                            madsim::time::sleep(Duration::from_millis(ms)).await;
                            Event::ConnectFailed(addr)
                        }
                    };
                    let _ = events.send(event).await;
                });
            }
            Action::Read(peer, mut rx) => {
                madsim::task::spawn_local(async move {
                    while let Ok(payload) = rx.recv().await {
                        let bytes = payload
                            .downcast::<Vec<u8>>()
                            .expect("simulated connections carry bytes");
                        if events.send(Event::Bytes(peer, *bytes)).await.is_err() {
                            return;
                        }
                    }
                    let _ = events.send(Event::Closed(peer)).await;
                });
            }
            Action::Stop => {}
        }
    }
}
