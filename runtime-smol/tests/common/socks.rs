//! A minimal SOCKS5 proxy (RFC 1928 CONNECT, Tor's RESOLVE extension, optional RFC 1929
//! login) that records what it is asked for and relays the bytes of CONNECTs.

use std::io::{Read, Write};
use std::net::{IpAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// What the proxy was asked: `CONNECT host:port` or `RESOLVE host`, in order.
pub type Requests = Arc<Mutex<Vec<String>>>;

/// How the proxy behaves.
#[derive(Clone)]
pub struct Socks {
    /// Username and password it requires, if any.
    pub login: Option<(&'static str, &'static str)>,
    /// The address every RESOLVE answers with.
    pub resolves_to: IpAddr,
}

impl Socks {
    /// Serves on `bind` (`127.0.0.1:0` for any port); returns its address and its requests.
    pub fn start(self, bind: &str) -> (String, Requests) {
        let listener = TcpListener::bind(bind).unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let requests: Requests = Arc::default();
        let seen = Arc::clone(&requests);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (seen, socks) = (Arc::clone(&seen), self.clone());
                std::thread::spawn(move || {
                    let _ = socks.serve(client, &seen);
                });
            }
        });
        (addr, requests)
    }

    fn serve(&self, mut c: TcpStream, seen: &Mutex<Vec<String>>) -> std::io::Result<()> {
        let mut head = [0u8; 2];
        c.read_exact(&mut head)?;
        let mut methods = vec![0u8; usize::from(head[1])];
        c.read_exact(&mut methods)?;
        let field = |c: &mut TcpStream| -> std::io::Result<Vec<u8>> {
            let mut len = [0u8; 1];
            c.read_exact(&mut len)?;
            let mut v = vec![0u8; usize::from(len[0])];
            c.read_exact(&mut v)?;
            Ok(v)
        };
        match self.login {
            Some((user, pass)) => {
                if head[0] != 5 || !methods.contains(&2) {
                    return c.write_all(&[5, 0xff]);
                }
                c.write_all(&[5, 2])?;
                let mut version = [0u8; 1];
                c.read_exact(&mut version)?;
                let (u, p) = (field(&mut c)?, field(&mut c)?);
                if u != user.as_bytes() || p != pass.as_bytes() {
                    return c.write_all(&[1, 1]);
                }
                c.write_all(&[1, 0])?;
            }
            None => c.write_all(&[5, 0])?,
        }
        let mut req = [0u8; 4];
        c.read_exact(&mut req)?;
        let host = match req[3] {
            1 => {
                let mut ip = [0u8; 4];
                c.read_exact(&mut ip)?;
                std::net::Ipv4Addr::from(ip).to_string()
            }
            3 => String::from_utf8_lossy(&field(&mut c)?).into_owned(),
            _ => return c.write_all(&[5, 8, 0, 1, 0, 0, 0, 0, 0, 0]),
        };
        let mut port = [0u8; 2];
        c.read_exact(&mut port)?;
        if req[1] == 0xf0 {
            seen.lock().unwrap().push(format!("RESOLVE {host}"));
            let IpAddr::V4(ip) = self.resolves_to else {
                return c.write_all(&[5, 4, 0, 1, 0, 0, 0, 0, 0, 0]);
            };
            let mut reply = vec![5, 0, 0, 1];
            reply.extend_from_slice(&ip.octets());
            reply.extend_from_slice(&[0, 0]);
            return c.write_all(&reply);
        }
        let target = format!("{host}:{}", u16::from_be_bytes(port));
        seen.lock().unwrap().push(format!("CONNECT {target}"));
        let Ok(upstream) = TcpStream::connect(&target) else {
            return c.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]);
        };
        c.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0])?;
        let (mut c2, mut up2) = (c.try_clone()?, upstream.try_clone()?);
        let mut upstream = upstream;
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut up2, &mut c2);
            let _ = c2.shutdown(std::net::Shutdown::Both);
        });
        let _ = std::io::copy(&mut c, &mut upstream);
        let _ = upstream.shutdown(std::net::Shutdown::Both);
        Ok(())
    }
}
