//! The `palpa` binary's allocator: the system's, except for large blocks aligned beyond
//! what `malloc` guarantees. For those the standard library asks for zeroed memory with
//! `posix_memalign` and a `memset`, which writes every page; polars asks once per process
//! for 8 MiB of zeros so aligned, as it writes its first table, and that table's writer
//! faulted in 2,048 fresh pages while the run had nothing else left to do. `calloc` leaves
//! fresh pages unwritten, as the kernel gives them zeroed. Writing the tables, medians of
//! 11 runs alternating with the system allocator (`timings_s` in `run.json`): 600 s EDF
//! 13.5 → 6.2 ms with 2 threads and 15.6 → 9.2 ms with 1; 600 s Parquet 12.7 → 6.1 ms and
//! 15.1 → 7.9 ms (medians of 5); the tables are the same bytes.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ptr;

/// [`System`], with large over-aligned blocks taken from `malloc` or `calloc` with room to
/// align them.
pub struct ZeroedByCalloc;

/// `malloc`'s alignment on 64-bit glibc and musl.
const MALLOC_ALIGN: usize = 16;
/// The smallest block handled here: below glibc's `mmap` threshold a block comes from an
/// arena, where `calloc` writes whatever it cannot prove fresh.
const LARGE_BYTES: usize = 128 << 10;

/// Whether a block of `layout` is handled here; both ends of a block must agree.
fn over_aligned(layout: Layout) -> bool {
    layout.align() > MALLOC_ALIGN && layout.size() >= LARGE_BYTES
}

/// The block of `base`, which has `layout.align()` bytes to spare, moved up to its
/// alignment past one word; the word before it keeps `base` for `dealloc`.
///
/// # Safety
/// `base` is null or a `malloc`ed block of at least `layout.size() + layout.align()` bytes.
unsafe fn aligned_in(base: *mut libc::c_void, layout: Layout) -> *mut u8 {
    if base.is_null() {
        return ptr::null_mut();
    }
    // `base` is a multiple of 16 and the alignment a larger power of two, so the block
    // starts between 16 and `align` bytes in, and ends inside the spare bytes.
    let start = (base as usize + size_of::<usize>()).next_multiple_of(layout.align());
    let block = base.cast::<u8>().add(start - base as usize);
    block.cast::<*mut libc::c_void>().sub(1).write(base);
    block
}

/// `layout.size()` plus the bytes to align it, unless that overflows.
fn padded(layout: Layout) -> Option<usize> {
    layout.size().checked_add(layout.align())
}

// SAFETY: blocks of layouts not `over_aligned` are `System`'s. An `over_aligned` block is
// carved by `aligned_in` from a `malloc`/`calloc` block large enough for it and its
// alignment, and `dealloc` frees the base that `aligned_in` stored before it; `realloc`
// moves a block into a fresh one whenever either layout is `over_aligned`, so each block
// is always freed by the scheme that made it.
unsafe impl GlobalAlloc for ZeroedByCalloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !over_aligned(layout) {
            return System.alloc(layout);
        }
        padded(layout).map_or(ptr::null_mut(), |n| aligned_in(libc::malloc(n), layout))
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !over_aligned(layout) {
            return System.alloc_zeroed(layout);
        }
        padded(layout).map_or(ptr::null_mut(), |n| aligned_in(libc::calloc(1, n), layout))
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        if over_aligned(layout) {
            libc::free(block.cast::<*mut libc::c_void>().sub(1).read());
        } else {
            System.dealloc(block, layout);
        }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
        if !over_aligned(layout) && !over_aligned(new_layout) {
            return System.realloc(block, layout, new_size);
        }
        let moved = self.alloc(new_layout);
        if !moved.is_null() {
            ptr::copy_nonoverlapping(block, moved, layout.size().min(new_size));
            self.dealloc(block, layout);
        }
        moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_aligned_blocks_are_aligned_zeroed_kept_through_realloc_and_freed() {
        let a = ZeroedByCalloc;
        for (size, align) in [
            (LARGE_BYTES, 32),
            (8 << 20, 4096),
            (3 << 20, 64),
            (1000, 4096),
        ] {
            let layout = Layout::from_size_align(size, align).unwrap();
            unsafe {
                let block = a.alloc_zeroed(layout);
                assert!(!block.is_null());
                assert_eq!(block as usize % align, 0, "{size} bytes at {align}");
                let bytes = std::slice::from_raw_parts_mut(block, size);
                assert!(bytes.iter().all(|&b| b == 0), "{size} bytes at {align}");
                bytes.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
                // Grown, then shrunk below the size handled here.
                let grown = a.realloc(block, layout, size * 2);
                assert_eq!(grown as usize % align, 0);
                let kept = std::slice::from_raw_parts(grown, size);
                assert!(kept.iter().enumerate().all(|(i, &b)| b == i as u8));
                let grown_layout = Layout::from_size_align(size * 2, align).unwrap();
                let shrunk = a.realloc(grown, grown_layout, 100);
                assert_eq!(shrunk as usize % align, 0);
                let kept = std::slice::from_raw_parts(shrunk, 100);
                assert!(kept.iter().enumerate().all(|(i, &b)| b == i as u8));
                a.dealloc(shrunk, Layout::from_size_align(100, align).unwrap());
                let plain = a.alloc(layout);
                assert_eq!(plain as usize % align, 0);
                a.dealloc(plain, layout);
            }
        }
    }

    #[test]
    fn a_block_too_large_to_have_is_null() {
        let layout = Layout::from_size_align(isize::MAX as usize - 4095, 4096).unwrap();
        unsafe {
            assert!(ZeroedByCalloc.alloc_zeroed(layout).is_null());
            assert!(ZeroedByCalloc.alloc(layout).is_null());
        }
    }
}
