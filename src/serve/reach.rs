//! The address teams' devices open to join a game. The server may listen
//! on every interface (0.0.0.0), which no device can open, and the
//! facilitator's own browser may have opened it as `localhost`, which
//! names each device itself: neither is an address to show a class.

use std::net::{IpAddr, SocketAddr, UdpSocket};

/// Where this server can be reached from other devices, found once at
/// start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Reach {
    /// At this address (the one it listens on, or this machine's address
    /// on its network when it listens on every interface).
    At(SocketAddr),
    /// It listens on this machine only (a loopback address).
    ThisMachineOnly,
    /// It listens on every interface but this machine's network address
    /// could not be found (no network).
    Unknown { port: u16 },
}

impl Reach {
    /// From the address the server listens on.
    pub(super) fn of(bound: SocketAddr) -> Reach {
        let ip = bound.ip();
        if ip.is_loopback() {
            Reach::ThisMachineOnly
        } else if ip.is_unspecified() {
            network_address(ip.is_ipv6()).map_or(Reach::Unknown { port: bound.port() }, |a| {
                Reach::At(SocketAddr::new(a, bound.port()))
            })
        } else {
            Reach::At(bound)
        }
    }
}

/// This machine's address on its network: the source address of the route
/// to a documentation address. Connecting a UDP socket sends nothing; it
/// only chooses the route, so this works offline on a network with a
/// router, and fails without one.
fn network_address(v6: bool) -> Option<IpAddr> {
    let (any, far) = if v6 {
        ("[::]:0", "[2001:db8::1]:9")
    } else {
        ("0.0.0.0:0", "192.0.2.1:9")
    };
    let socket = UdpSocket::bind(any).ok()?;
    socket.connect(far).ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

/// The host in a `Host` header (`name:port`, `[v6]:port`), without its port.
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

/// Whether a host names no one machine: each device itself (`localhost`,
/// a loopback address) or every interface (`0.0.0.0`).
fn names_this_device(host: &str) -> bool {
    let name = host_name(host);
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified())
}

/// The address to show a class, or why there is none: the one the page
/// was opened at when other devices can open it too, else this machine's
/// network address.
pub(super) fn join_address(host: Option<&str>, reach: Reach) -> Result<String, String> {
    match (host, reach) {
        (_, Reach::ThisMachineOnly) => Err(
            "Upstream is listening on this machine only, so teams' devices cannot reach it: stop it and start it again with --address 0.0.0.0".into(),
        ),
        (Some(h), _) if !names_this_device(h) && h.len() <= 255 => Ok(format!("http://{h}/")),
        (_, Reach::At(a)) => Ok(format!("http://{a}/")),
        (_, Reach::Unknown { port }) => Err(format!(
            "this machine's network address could not be found: teams open http://, then this machine's name or address on your network, then :{port}/"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_class_is_never_shown_an_address_that_names_each_device_itself() {
        let lan: SocketAddr = "192.168.1.20:8080".parse().unwrap();
        // Opened at its network address or name: that one.
        assert_eq!(
            join_address(Some("192.168.1.20:8080"), Reach::At(lan)),
            Ok("http://192.168.1.20:8080/".into())
        );
        assert_eq!(
            join_address(Some("upstream.council.local:8080"), Reach::At(lan)),
            Ok("http://upstream.council.local:8080/".into())
        );
        // Opened as localhost: the network address instead.
        for local in [
            "localhost:8080",
            "127.0.0.1:8080",
            "[::1]:8080",
            "LOCALHOST",
            "0.0.0.0:8080",
        ] {
            assert_eq!(
                join_address(Some(local), Reach::At(lan)),
                Ok("http://192.168.1.20:8080/".into()),
                "{local}"
            );
        }
        // Listening on this machine only, or with no network: no address,
        // and what to do.
        let only = join_address(Some("localhost:8080"), Reach::ThisMachineOnly).unwrap_err();
        assert!(only.contains("--address 0.0.0.0"), "{only}");
        let unknown = join_address(Some("localhost:8080"), Reach::Unknown { port: 8080 });
        assert!(unknown.unwrap_err().contains(":8080/"));
    }

    #[test]
    fn listening_on_every_interface_is_never_shown_as_0_0_0_0() {
        let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        match Reach::of(any) {
            Reach::At(a) => {
                assert!(!a.ip().is_unspecified() && !a.ip().is_loopback());
                assert_eq!(a.port(), 8080);
            }
            Reach::Unknown { port } => assert_eq!(port, 8080),
            Reach::ThisMachineOnly => panic!("0.0.0.0 is not this machine only"),
        }
        let local: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert_eq!(Reach::of(local), Reach::ThisMachineOnly);
        let given: SocketAddr = "10.1.2.3:80".parse().unwrap();
        assert_eq!(Reach::of(given), Reach::At(given));
    }
}
