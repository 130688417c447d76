//! SQL Server Browser (SSRP, MS-SQLR) on UDP 127.0.0.1:1434: answers a client's unicast
//! request for a named instance (`CLNT_UCAST_INST`, 0x04) with `SVR_RESP` (0x05) naming the
//! instance's TCP port, as the real service does, so that a client can reach a named
//! instance without knowing its port.

use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const CLNT_UCAST_INST: u8 = 0x04;
const SVR_RESP: u8 = 0x05;

/// The responder; stops when dropped.
pub struct Browser {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Browser {
    /// Answers for `instances` as (name, TCP port). Fails when port 1434 is taken.
    pub fn start(server: &str, instances: Vec<(String, u16)>) -> std::io::Result<Self> {
        let socket = UdpSocket::bind("127.0.0.1:1434")?;
        socket.set_read_timeout(Some(Duration::from_millis(50)))?;
        let stop = Arc::new(AtomicBool::new(false));
        let server = server.to_owned();
        let thread = std::thread::spawn({
            let stop = Arc::clone(&stop);
            move || {
                let mut buf = [0u8; 1024];
                while !stop.load(Ordering::Relaxed) {
                    let Ok((len, from)) = socket.recv_from(&mut buf) else {
                        continue;
                    };
                    if len < 2 || buf[0] != CLNT_UCAST_INST {
                        continue;
                    }
                    let asked = String::from_utf8_lossy(&buf[1..len])
                        .trim_end_matches('\0')
                        .to_owned();
                    // An unknown instance gets no answer, as from the real service.
                    let Some((name, port)) = instances
                        .iter()
                        .find(|(name, _)| name.eq_ignore_ascii_case(&asked))
                    else {
                        continue;
                    };
                    let text = format!(
                        "ServerName;{server};InstanceName;{name};IsClustered;No;Version;10.50.4000.0;tcp;{port};;"
                    );
                    let Ok(size) = u16::try_from(text.len()) else {
                        continue;
                    };
                    let mut reply = vec![SVR_RESP];
                    reply.extend_from_slice(&size.to_le_bytes());
                    reply.extend_from_slice(text.as_bytes());
                    let _ = socket.send_to(&reply, from);
                }
            }
        });
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
