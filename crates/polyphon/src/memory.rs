//! The allocator settings that suit polyphon's workloads.

/// Keeps freed memory in the process for the next allocation instead of handing it back to
/// the kernel (glibc on Linux; elsewhere this does nothing).
///
/// By default glibc maps every block over its mmap threshold on its own and unmaps it when it
/// is freed, and gives each thread pool its own arenas. A training step or an inference chunk
/// that allocates the same large buffers again then pays a page fault and zeroing for every
/// page of them: about half the time of a native ConvNet training step on 2 cores. Serving
/// every block from one heap that is never trimmed keeps one step's pages for the next
/// (native ConvNet training, 512 frames per step: 280-340 → 560-570 frames/s). The process
/// keeps its peak size until it ends, which it reaches anyway.
///
/// Call it first thing in `main`, before any thread starts; the `polyphon` command does.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters, and is called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_MMAP_MAX, 0);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
}
