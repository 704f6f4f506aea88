use super::*;
use smol::net::TcpListener;

/// A proxy that expects exactly `expect` (in order, each read in full) and answers each with
/// the matching entry of `answer`, then writes `b"hello"` as if from the target.
async fn scripted(expect: Vec<Vec<u8>>, answer: Vec<Vec<u8>>) -> (SocketAddr, smol::Task<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = smol::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        for (want, reply) in expect.iter().zip(&answer) {
            let mut got = vec![0u8; want.len()];
            if s.read_exact(&mut got).await.is_err() {
                return;
            }
            assert_eq!(&got, want);
            s.write_all(reply).await.unwrap();
        }
        if answer.len() == expect.len() {
            let _ = s.write_all(b"hello").await;
        }
    });
    (addr, task)
}

const OK_V4: [u8; 10] = [5, 0, 0, 1, 127, 0, 0, 1, 0x1f, 0x90];

#[test]
fn connects_to_an_ip_without_a_login() {
    smol::block_on(async {
        let target: SocketAddr = "10.1.2.3:18444".parse().unwrap();
        let (addr, task) = scripted(
            vec![vec![5, 1, 0], vec![5, 1, 0, 1, 10, 1, 2, 3, 0x48, 0x0c]],
            vec![vec![5, 0], OK_V4.to_vec()],
        )
        .await;
        let proxy = Proxy {
            addr,
            credentials: None,
        };
        let mut s = connect(&proxy, &Target::Addr(target)).await.unwrap();
        let mut hello = [0u8; 5];
        s.read_exact(&mut hello).await.unwrap();
        assert_eq!(&hello, b"hello");
        task.await;
    });
}

#[test]
fn logs_in_and_asks_for_a_host_name() {
    smol::block_on(async {
        let host = "expyuzz4wqqyqhjn.onion";
        let mut request = vec![5, 1, 0, 3, host.len() as u8];
        request.extend_from_slice(host.as_bytes());
        request.extend_from_slice(&8333u16.to_be_bytes());
        // A domain-typed bound address, to check its length prefix is honoured.
        let mut ok = vec![5, 0, 0, 3, 3];
        ok.extend_from_slice(b"tor\x20\x8d");
        let (addr, task) = scripted(
            vec![vec![5, 2, 0, 2], b"\x01\x03bob\x06secret".to_vec(), request],
            vec![vec![5, 2], vec![1, 0], ok],
        )
        .await;
        let proxy = Proxy {
            addr,
            credentials: Some(("bob".into(), "secret".into())),
        };
        let mut s = connect(&proxy, &Target::Domain(host.into(), 8333))
            .await
            .unwrap();
        let mut hello = [0u8; 5];
        s.read_exact(&mut hello).await.unwrap();
        assert_eq!(&hello, b"hello");
        task.await;
    });
}

#[test]
fn refusals_are_reported_by_kind() {
    smol::block_on(async {
        let target = Target::Addr("[::1]:1".parse().unwrap());
        let creds = Some(("bob".to_string(), "wrong".to_string()));

        let (addr, _t) = scripted(vec![vec![5, 1, 0]], vec![vec![5, 0xff]]).await;
        let e = connect(
            &Proxy {
                addr,
                credentials: None,
            },
            &target,
        )
        .await;
        assert!(matches!(e, Err(Socks5Error::NoAcceptableMethod)), "{e:?}");

        let (addr, _t) = scripted(
            vec![vec![5, 2, 0, 2], b"\x01\x03bob\x05wrong".to_vec()],
            vec![vec![5, 2], vec![1, 1]],
        )
        .await;
        let e = connect(
            &Proxy {
                addr,
                credentials: creds,
            },
            &target,
        )
        .await;
        assert!(matches!(e, Err(Socks5Error::AuthFailed)), "{e:?}");

        let mut request = vec![5, 1, 0, 4];
        request.extend_from_slice(&[0; 15]);
        request.extend_from_slice(&[1, 0, 1]);
        let (addr, _t) = scripted(
            vec![vec![5, 1, 0], request],
            vec![vec![5, 0], vec![5, 5, 0, 1, 0, 0, 0, 0, 0, 0]],
        )
        .await;
        let e = connect(
            &Proxy {
                addr,
                credentials: None,
            },
            &target,
        )
        .await
        .unwrap_err();
        assert!(matches!(e, Socks5Error::Refused(5)));
        assert_eq!(e.to_string(), "proxy could not connect: connection refused");

        let (addr, _t) = scripted(vec![vec![5, 1, 0]], vec![vec![4, 0]]).await;
        let e = connect(
            &Proxy {
                addr,
                credentials: None,
            },
            &target,
        )
        .await;
        assert!(matches!(e, Err(Socks5Error::NotSocks5(4))), "{e:?}");
    });
}

#[test]
fn overlong_fields_are_refused_before_sending() {
    let host = "a".repeat(256);
    assert!(matches!(
        request(CMD_CONNECT, &Target::Domain(host, 1)),
        Err(Socks5Error::TooLong("host name"))
    ));
}

/// Asks a scripted proxy to resolve `host`; it answers the RESOLVE with `answer`.
fn resolve_with(host: &str, answer: Vec<u8>) -> Result<IpAddr, Socks5Error> {
    smol::block_on(async {
        let mut request = vec![5, 0xf0, 0, 3, host.len() as u8];
        request.extend_from_slice(host.as_bytes());
        request.extend_from_slice(&[0, 0]);
        let (addr, task) = scripted(vec![vec![5, 1, 0], request], vec![vec![5, 0], answer]).await;
        let proxy = Proxy {
            addr,
            credentials: None,
        };
        let resolved = resolve(&proxy, host).await;
        task.await;
        resolved
    })
}

#[test]
fn resolves_a_seed_through_tors_resolve_command() {
    let answer = vec![5, 0, 0, 1, 20, 1, 2, 3, 0, 0];
    let ip = resolve_with("seed.bitcoin.sipa.be", answer).unwrap();
    assert_eq!(ip, IpAddr::from([20, 1, 2, 3]));
}

#[test]
fn a_resolve_the_proxy_refuses_is_an_error() {
    // Tor answers a failed lookup with "host unreachable".
    let refused = vec![5, 4, 0, 1, 0, 0, 0, 0, 0, 0];
    assert!(matches!(
        resolve_with("nowhere.example", refused),
        Err(Socks5Error::Refused(4))
    ));
}
