#[path = "../benches/common/mod.rs"]
mod common;
fn main() {
    let f = common::fixture();
    let bin = f.engine.save_binary(&f.profile).unwrap();
    let t = std::time::Instant::now();
    let n: u32 = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20000);
    for _ in 0..n {
        std::hint::black_box(f.engine.load_profile_binary(&bin, f.now).unwrap());
    }
    eprintln!("load_binary {:?}", t.elapsed() / n);
    let mut p = f.engine.load_profile_binary(&bin, f.now).unwrap();
    let t = std::time::Instant::now();
    for _ in 0..n {
        f.engine.prepare(&mut p, f.now);
    }
    eprintln!("prepare {:?}", t.elapsed() / n);
    let t = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(f.engine.scores(&p, f.now));
    }
    eprintln!("scores {:?}", t.elapsed() / n);
}
