//! The SSH probe: one TCP connection to the VM's SSH port that reads the SSH
//! banner (RFC 4253 §4.2: the server sends `SSH-protoversion-softwareversion`
//! first) and closes at once.
//!
//! The probe does double duty: an answer of any kind (banner, open port,
//! refusal) proves a host owns the address right now, and makes the kernel
//! resolve the address in the neighbour table, so that the table can confirm
//! which MAC answered. It never authenticates: OpenSSH 9.8+ penalises sources
//! whose connections never authenticate (`PerSourcePenalties`), so the engine
//! probes often only while a VM is booting.

use std::future::Future;
use std::net::SocketAddrV4;
use std::pin::Pin;
use std::time::Duration;

use tokio::io::AsyncReadExt;

/// What one probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// The port sent an `SSH-` banner (its first line, trimmed, at most 255 bytes).
    Banner(String),
    /// The port accepted the connection but sent no `SSH-` line in time (or something else).
    OpenNoBanner,
    /// The host answered with a refusal (TCP RST): it owns the address, nothing listens.
    Refused,
    /// No answer within the timeout.
    TimedOut,
    /// `EHOSTUNREACH`/`ENETUNREACH`: the kernel could not reach the host. On
    /// macOS 15+ this is also what Local Network privacy returns when the app
    /// lacks permission to reach on-link addresses.
    Unreachable(String),
    /// `EPERM`/`EACCES`: the host's own policy refused the connection before a
    /// packet left (macOS Local Network privacy on some versions, a host
    /// firewall such as pf or nftables with a reject-by-policy rule).
    Denied(String),
    /// Any other error.
    Error(String),
}

impl ProbeOutcome {
    /// True when a host answered at the address (banner, open port or refusal).
    pub fn answered(&self) -> bool {
        matches!(self, ProbeOutcome::Banner(_) | ProbeOutcome::OpenNoBanner | ProbeOutcome::Refused)
    }

    /// True when an SSH banner was read.
    pub fn ssh_ready(&self) -> bool {
        matches!(self, ProbeOutcome::Banner(_))
    }
}

/// A boxed future, so that probers can be trait objects.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Probes an address's SSH port. Behind a trait so tests can inject outcomes
/// (for example `EHOSTUNREACH` from macOS Local Network privacy).
pub trait Prober: Send + Sync {
    /// Connects to `addr` and reads the banner; the whole probe takes at most `timeout`.
    fn probe(&self, addr: SocketAddrV4, timeout: Duration) -> BoxFuture<ProbeOutcome>;
}

/// The real prober: a tokio TCP connection.
#[derive(Debug, Default, Clone)]
pub struct TcpProber;

impl Prober for TcpProber {
    fn probe(&self, addr: SocketAddrV4, timeout: Duration) -> BoxFuture<ProbeOutcome> {
        Box::pin(async move {
            let deadline = tokio::time::Instant::now() + timeout;
            let stream = match tokio::time::timeout_at(deadline, tokio::net::TcpStream::connect(addr)).await {
                Err(_) => return ProbeOutcome::TimedOut,
                Ok(Err(e)) => return classify(&e),
                Ok(Ok(s)) => s,
            };
            // Connected: the host answered. Now the banner, within what is left.
            match tokio::time::timeout_at(deadline, read_banner(stream)).await {
                Ok(Some(line)) => ProbeOutcome::Banner(line),
                _ => ProbeOutcome::OpenNoBanner,
            }
        })
    }
}

/// Reads until the first `SSH-` line (RFC 4253 allows other lines before it)
/// within the first 256 bytes; the stream is dropped (closed) on return.
async fn read_banner(mut stream: tokio::net::TcpStream) -> Option<String> {
    let mut buf = [0u8; 256];
    let mut len = 0;
    loop {
        match stream.read(&mut buf[len..]).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => {
                len += n;
                if let Some(line) = banner_line(&buf[..len]) {
                    return Some(line);
                }
                if len == buf.len() {
                    return None;
                }
            }
        }
    }
}

fn banner_line(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    for line in text.split_inclusive('\n') {
        if !line.ends_with('\n') {
            return None;
        }
        let l = line.trim_end();
        if l.starts_with("SSH-") {
            return Some(l.chars().filter(|c| !c.is_control()).collect());
        }
    }
    None
}

fn classify(e: &std::io::Error) -> ProbeOutcome {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => ProbeOutcome::Refused,
        K::TimedOut => ProbeOutcome::TimedOut,
        K::HostUnreachable | K::NetworkUnreachable => ProbeOutcome::Unreachable(e.to_string()),
        K::PermissionDenied => ProbeOutcome::Denied(e.to_string()),
        _ => ProbeOutcome::Error(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn banner_open_refused() -> Result<(), Box<dyn std::error::Error>> {
        // Loopback is fine for testing the probe itself (the engine never takes
        // loopback as a VM address).
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let std::net::SocketAddr::V4(addr) = l.local_addr()? else { panic!("v4") };
        tokio::spawn(async move {
            if let Ok((mut s, _)) = l.accept().await {
                let _ = s.write_all(b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n").await;
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        });
        let o = TcpProber.probe(addr, Duration::from_secs(2)).await;
        assert_eq!(o, ProbeOutcome::Banner("SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13".into()));

        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let std::net::SocketAddr::V4(saddr) = silent.local_addr()? else { panic!("v4") };
        tokio::spawn(async move {
            let _keep = silent.accept().await;
            tokio::time::sleep(Duration::from_secs(5)).await;
        });
        // open port, no banner: answered, but not SSH-ready
        let o = TcpProber.probe(saddr, Duration::from_millis(300)).await;
        assert_eq!(o, ProbeOutcome::OpenNoBanner);

        let closed = std::net::TcpListener::bind("127.0.0.1:0")?;
        let std::net::SocketAddr::V4(caddr) = closed.local_addr()? else { panic!("v4") };
        drop(closed);
        assert_eq!(TcpProber.probe(caddr, Duration::from_secs(1)).await, ProbeOutcome::Refused);
        Ok(())
    }

    #[tokio::test]
    async fn wrong_banner_is_open_no_banner() -> Result<(), Box<dyn std::error::Error>> {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let std::net::SocketAddr::V4(addr) = l.local_addr()? else { panic!("v4") };
        tokio::spawn(async move {
            if let Ok((mut s, _)) = l.accept().await {
                let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
            }
        });
        assert_eq!(TcpProber.probe(addr, Duration::from_secs(2)).await, ProbeOutcome::OpenNoBanner);
        Ok(())
    }
}
