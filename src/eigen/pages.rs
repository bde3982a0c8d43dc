//! Advice to the kernel on how the solver's large buffers get their memory.
//!
//! A buffer fresh from the allocator (above glibc's mmap threshold) has no memory behind it:
//! every 4 KiB page costs a page fault at its first touch, and the kernel zeroes it then. At
//! n = 1e5, k = 100 the n × k output columns alone are 80 MB, 19.5k pages, and the faults were
//! a quarter of the CPU time of a solve on the 2-core VM of `benches/README.md`. Two remedies,
//! each measured there:
//!
//! * [`advise_huge_pages`] for the lane workspaces of inverse iteration, swept again by every
//!   step: 2 MiB pages, one fault per 512.
//! * [`populate_for_write`] for the output columns, written once: one `madvise` call per
//!   rayon task backs the task's columns before it starts, so the kernel allocates and zeroes
//!   the pages in one pass instead of at one fault (trap, accounting, return) per page. On the
//!   tridiagonal bench (`CONFINE_TIMING=N,100,R` and `perf stat -e
//!   page-faults,user_time,system_time`, 2 threads, three alternated runs each): at n = 1e5
//!   (R = 7) the page faults of the process fell from 158k–162k to 21k–26k, its system time from
//!   0.45–0.52 s to 0.38–0.39 s, and the best solve from 0.129–0.134 s to 0.121–0.124 s; at
//!   n = 1e6 (R = 2) the system time fell from 1.8–4.6 s to 0.9–1.9 s and the best solve from
//!   1.32–1.91 s to 1.24–1.47 s; at n = 1e4 the change was within the noise. Huge pages for
//!   the output were measured too and rejected (see [`advise_huge_pages`]).
//!
//! Both are advice: on other systems, on kernels without the feature, and where it is
//! refused, they do nothing and the buffer behaves as before. Neither changes a value in the
//! buffer.

/// Asks the kernel to back the whole 2 MiB pages inside `buf` with transparent huge pages.
///
/// For the lane workspaces (the rows, iterates and pivots of
/// [`super::inverse::LaneWorkspace`], 15 MB per thread at n = 1e5), which every step sweeps
/// again: with 4 KiB pages each of their pages costs a fault per solve, with 2 MiB pages one
/// fault per 512. Not for the n × k output columns, which are written once: the kernel zeroes
/// a huge page in one go, out of cache, where a 4 KiB page is zeroed just before its first
/// write; measured at n = 1e6, k = 100 (`CONFINE_TIMING=1000000,100,3` on the tridiagonal
/// bench, 2 threads), advising the columns too doubled the system time (3.5–4.4 s against
/// 1.6–2.2 s per process) and slowed the best solve from 1.18–1.39 s to 1.30–2.10 s. Call it
/// before the buffer is first touched: it acts on the faults that follow (zeroed memory from
/// `vec![0.0; len]` is not touched by the allocator when it comes fresh from the kernel). On
/// other systems, and where huge pages are disabled, it does nothing.
pub(super) fn advise_huge_pages<T>(buf: &[T]) {
    #[cfg(target_os = "linux")]
    {
        const HUGE_PAGE: usize = 2 << 20;
        if let Some((lo, hi)) = whole_pages(buf, HUGE_PAGE) {
            // SAFETY: [lo, hi) is page-aligned and lies inside the live allocation behind `buf`,
            // which the borrow keeps alive for the call. MADV_HUGEPAGE only marks the mapping as
            // eligible for huge pages (used at later faults and by khugepaged, which preserves
            // contents): it never reads, writes or changes the contents of memory, so every
            // value in the buffer, initialized or not, stays as it was. A failure (EINVAL or
            // EBUSY where huge pages are unsupported) leaves the mapping unchanged and is
            // ignored on purpose: the call is advice.
            unsafe {
                libc::madvise(lo as *mut libc::c_void, hi - lo, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = buf;
}

/// Has the kernel back every whole page inside `buf` with zeroed, writable memory now, in one
/// call, rather than at a fault per page on the first writes (see the module documentation).
/// Returns whether the kernel did (false on other systems and on Linux before 5.14, which lack
/// `MADV_POPULATE_WRITE`). Pages already backed are left as they are.
pub(super) fn populate_for_write<T>(buf: &mut [T]) -> bool {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: sysconf only reads a system constant.
        let page = match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
            p if p > 0 => p as usize,
            _ => return false,
        };
        let Some((lo, hi)) = whole_pages(buf, page) else {
            return false;
        };
        // SAFETY: [lo, hi) is page-aligned and lies inside the live allocation behind `buf`,
        // which the exclusive borrow keeps alive and unaliased for the call. For private
        // anonymous memory MADV_POPULATE_WRITE faults in every page as a write would, but
        // performs no access: a page not yet backed gets a zeroed page (what a read of it
        // returns already), a backed page keeps its contents, a copy-on-write page is copied.
        // No value in the buffer changes. A failure (EINVAL before Linux 5.14, ENOMEM) leaves
        // the pages to be faulted in on first write, as without the call.
        unsafe { libc::madvise(lo as *mut libc::c_void, hi - lo, libc::MADV_POPULATE_WRITE) == 0 }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = buf;
        false
    }
}

/// The addresses [lo, hi) of the whole `page`-byte pages inside `buf` (rounded inwards, so
/// only memory of this allocation), or None when it holds no whole page.
#[cfg(target_os = "linux")]
fn whole_pages<T>(buf: &[T], page: usize) -> Option<(usize, usize)> {
    let start = buf.as_ptr() as usize;
    let end = start + std::mem::size_of_val(buf);
    let (lo, hi) = (start.next_multiple_of(page), end / page * page);
    (lo < hi).then_some((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The advice reaches the kernel: the mapping holding a 24 MiB buffer is marked for huge
    /// pages (`hg` in the VmFlags of /proc/self/smaps), and the contents are unchanged.
    #[cfg(target_os = "linux")]
    #[test]
    fn huge_page_advice_marks_the_mapping_and_keeps_the_contents() {
        if !std::path::Path::new("/sys/kernel/mm/transparent_hugepage/enabled").exists() {
            return; // a kernel without transparent huge pages refuses the advice
        }
        let len = 3 << 20;
        let buffer: Vec<f64> = (0..len).map(|i| i as f64).collect();
        advise_huge_pages(&buffer);
        assert!(buffer.iter().enumerate().all(|(i, &x)| x == i as f64));
        let middle = buffer.as_ptr() as usize + std::mem::size_of_val(&buffer[..]) / 2;
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut inside = false;
        let mut flags = None;
        for line in smaps.lines() {
            let range = line
                .split_whitespace()
                .next()
                .and_then(|r| r.split_once('-'));
            let bounds = range.and_then(|(a, b)| {
                Some((
                    usize::from_str_radix(a, 16).ok()?,
                    usize::from_str_radix(b, 16).ok()?,
                ))
            });
            if let Some((lo, hi)) = bounds {
                inside = (lo..hi).contains(&middle);
            } else if inside && line.starts_with("VmFlags:") {
                flags = Some(line.to_string());
            }
        }
        let flags = flags.expect("the buffer's mapping in /proc/self/smaps");
        assert!(flags.split_whitespace().any(|f| f == "hg"), "{flags}");
    }

    /// Minor page faults of the calling thread so far.
    #[cfg(target_os = "linux")]
    fn thread_minor_faults() -> i64 {
        // SAFETY: getrusage writes one plain-data struct, which is zero-initialized first.
        unsafe {
            let mut usage: libc::rusage = std::mem::zeroed();
            assert_eq!(libc::getrusage(libc::RUSAGE_THREAD, &mut usage), 0);
            usage.ru_minflt
        }
    }

    /// Linux 5.14 or later (MADV_POPULATE_WRITE).
    #[cfg(target_os = "linux")]
    fn kernel_has_populate() -> bool {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
        let mut parts = release
            .trim()
            .split(['.', '-'])
            .map(|p| p.parse::<u32>().ok());
        match (parts.next().flatten(), parts.next().flatten()) {
            (Some(major), Some(minor)) => (major, minor) >= (5, 14),
            _ => false,
        }
    }

    /// A 64 MiB buffer (above glibc's largest mmap threshold, so fresh from the kernel) takes a
    /// fault per page when written; populated first, its writes take none, and population
    /// changes no value of a buffer that holds data.
    #[cfg(target_os = "linux")]
    #[test]
    fn population_keeps_the_contents_and_removes_the_write_faults() {
        let mut data: Vec<f64> = (0..1 << 20).map(|i| i as f64).collect();
        let accepted = populate_for_write(&mut data);
        assert!(data.iter().enumerate().all(|(i, &x)| x == i as f64));
        assert_eq!(accepted, kernel_has_populate());
        if !accepted {
            return;
        }
        let len = 8 << 20;
        let pages = (len * 8 / 4096) as i64;
        let mut fresh = vec![0.0_f64; len];
        assert!(populate_for_write(&mut fresh));
        let before = thread_minor_faults();
        fresh
            .iter_mut()
            .enumerate()
            .for_each(|(i, x)| *x = i as f64);
        let faults = thread_minor_faults() - before;
        assert!(
            faults < pages / 100,
            "{faults} faults writing {pages} populated pages"
        );
        assert!(fresh.iter().enumerate().all(|(i, &x)| x == i as f64));
    }
}
