//! rill-floor: a stand-in PB server that does no work but a fixed amount of
//! CPU per request, to measure what the load generator and the machine
//! allow before any store is involved.
//!
//! Every request is answered with the empty reply of its kind (a put is
//! acknowledged, a get finds nothing) after `--cpu-us` microseconds of the
//! worker thread's own CPU time, burnt on the async worker that read it.
//! Run `rill-bench --pb` against it with the flags of a real run: the
//! latency it reports is the floor for a server that costs that much CPU
//! per request on the same cores.
//!
//! With `--hop-threads N` the CPU time is burnt on one of N plain threads
//! instead (connection `i` on thread `i % N`), and the answer comes back to
//! the async worker: the least a server pays that keeps blocking storage
//! calls off its async workers, as Rill's vnode workers do. With
//! `--hop-spread` each request goes to a hop thread picked at random
//! instead, as a request's key picks the worker of its vnode in Rill: the
//! threads' queues then vary in length from moment to moment.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;

// The load generator's generator; the floor draws only numbers below n.
#[allow(dead_code)]
#[path = "../rng.rs"]
mod rng;
use clap::Parser;
use rng::Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// Largest request frame accepted; a longer one closes the connection.
const MAX_FRAME: usize = 64 << 20;

#[derive(Parser, Debug)]
#[command(
    name = "rill-floor",
    about = "A PB endpoint that answers every request with an empty reply after a fixed CPU time: the latency floor of a machine"
)]
struct Args {
    /// Address to listen on (port 0 picks a free port, printed at start)
    #[arg(long, default_value = "127.0.0.1:8087")]
    pb: SocketAddr,
    /// CPU time spent per request, in microseconds
    #[arg(long, default_value_t = 0)]
    cpu_us: u64,
    /// Async worker threads (default: one per core)
    #[arg(long)]
    threads: Option<usize>,
    /// Burn the CPU time on one of this many plain threads, handing each
    /// request over and its answer back (0: on the async worker)
    #[arg(long, default_value_t = 0)]
    hop_threads: usize,
    /// Hand each request to a hop thread picked at random, not to the one
    /// of its connection
    #[arg(long)]
    hop_spread: bool,
}

/// A request handed to a hop thread: the CPU time to burn, and where to say
/// it is done.
type Hop = (Duration, tokio::sync::oneshot::Sender<()>);

/// Starts `n` hop threads; their queues.
fn hop_threads(n: usize) -> anyhow::Result<Vec<std::sync::mpsc::Sender<Hop>>> {
    (0..n)
        .map(|i| {
            let (tx, rx) = std::sync::mpsc::channel::<Hop>();
            std::thread::Builder::new()
                .name(format!("hop-{i}"))
                .spawn(move || {
                    for (cpu, done) in rx {
                        burn(cpu);
                        let _ = done.send(());
                    }
                })
                .context("starting a hop thread")?;
            Ok(tx)
        })
        .collect()
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = args.threads {
        rt.worker_threads(n.max(1));
    }
    let rt = rt.enable_all().build().context("starting the runtime")?;
    rt.block_on(serve(args))
}

async fn serve(args: Args) -> anyhow::Result<()> {
    let listener = TcpListener::bind(args.pb)
        .await
        .with_context(|| format!("binding {}", args.pb))?;
    println!("rill-floor listening on {}", listener.local_addr()?);
    let cpu = Duration::from_micros(args.cpu_us);
    let hops = hop_threads(args.hop_threads)?;
    for i in 0.. {
        let (socket, _) = listener.accept().await?;
        let hop = match (hops.is_empty(), args.hop_spread) {
            (true, _) => Vec::new(),
            (false, true) => hops.clone(),
            (false, false) => vec![hops[i % hops.len()].clone()],
        };
        tokio::spawn(async move {
            if let Err(e) = connection(socket, cpu, hop).await {
                eprintln!("rill-floor: connection closed: {e}");
            }
        });
    }
    Ok(())
}

async fn connection(
    socket: TcpStream,
    cpu: Duration,
    hop: Vec<std::sync::mpsc::Sender<Hop>>,
) -> std::io::Result<()> {
    // Seeded from the peer's port, so connections draw differently.
    let mut pick = Rng::new(socket.peer_addr().map_or(1, |a| u64::from(a.port())));
    socket.set_nodelay(true)?;
    let (read, mut write) = socket.into_split();
    let mut read = BufReader::new(read);
    let mut frame = Vec::new();
    loop {
        let mut len = [0u8; 4];
        match read.read_exact(&mut len).await {
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            other => other?,
        };
        let len = u32::from_be_bytes(len) as usize;
        if len == 0 || len > MAX_FRAME {
            return Err(std::io::Error::other(format!("bad frame length {len}")));
        }
        frame.resize(len, 0);
        read.read_exact(&mut frame).await?;
        match hop.len() {
            0 => burn(cpu),
            n => {
                let (done, answered) = tokio::sync::oneshot::channel();
                hop[pick.below(n as u64) as usize]
                    .send((cpu, done))
                    .map_err(|_| std::io::Error::other("hop thread gone"))?;
                answered
                    .await
                    .map_err(|_| std::io::Error::other("hop thread gone"))?;
            }
        }
        write.write_all(&reply(frame[0])).await?;
    }
}

/// The whole reply frame (length, code, body) to a request with `code`.
fn reply(code: u8) -> Vec<u8> {
    let (code, body) = match code {
        1 => (2, Vec::new()),   // RpbPingReq → RpbPingResp
        7 => (8, Vec::new()),   // RpbGetServerInfoReq → RpbGetServerInfoResp
        9 => (10, Vec::new()),  // RpbGetReq → RpbGetResp, not found
        11 => (12, Vec::new()), // RpbPutReq → RpbPutResp
        13 => (14, Vec::new()), // RpbDelReq → RpbDelResp
        other => (
            0,
            error_body(&format!("rill-floor answers no message {other}")),
        ),
    };
    let mut out = Vec::with_capacity(5 + body.len());
    out.extend_from_slice(&(1 + body.len() as u32).to_be_bytes());
    out.push(code);
    out.extend_from_slice(&body);
    out
}

/// An `RpbErrorResp` body: `errmsg` (field 1, bytes) and `errcode` (field 2) 0.
fn error_body(msg: &str) -> Vec<u8> {
    let mut out = vec![0x0a];
    let mut n = msg.len();
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    out.extend_from_slice(msg.as_bytes());
    out.extend_from_slice(&[0x10, 0]);
    out
}

/// Spins until this thread has used `cpu` more CPU time: a preempted
/// thread burns nothing, so the cost per request stays fixed however busy
/// the cores are.
fn burn(cpu: Duration) {
    if cpu.is_zero() {
        return;
    }
    let start = thread_cpu();
    while thread_cpu().saturating_sub(start) < cpu {
        std::hint::spin_loop();
    }
}

fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec for the call to fill in.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_each_request_with_the_empty_reply_of_its_kind() {
        assert_eq!(reply(11), vec![0, 0, 0, 1, 12]);
        assert_eq!(reply(9), vec![0, 0, 0, 1, 10]);
        assert_eq!(reply(1), vec![0, 0, 0, 1, 2]);
        let err = reply(99);
        assert_eq!(err[4], 0, "an RpbErrorResp");
        let msg = "rill-floor answers no message 99";
        assert_eq!(
            u32::from_be_bytes(err[..4].try_into().unwrap()) as usize,
            err.len() - 4
        );
        assert_eq!(&err[5..7], &[0x0a, msg.len() as u8]);
        assert_eq!(&err[7..7 + msg.len()], msg.as_bytes());
    }

    #[test]
    fn a_hop_thread_burns_the_time_and_answers() {
        let hops = hop_threads(2).unwrap();
        for hop in &hops {
            let (done, answered) = tokio::sync::oneshot::channel();
            hop.send((Duration::from_millis(1), done)).unwrap();
            assert_eq!(answered.blocking_recv(), Ok(()));
        }
    }

    #[test]
    fn burns_the_cpu_time_asked() {
        let t0 = thread_cpu();
        burn(Duration::from_millis(5));
        assert!(thread_cpu() - t0 >= Duration::from_millis(5));
    }
}
