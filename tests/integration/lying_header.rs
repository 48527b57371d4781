//! A header that declares enormous sizes is refused before anything that large is
//! allocated. This binary counts allocations with its own global allocator, so it measures
//! what the reader asked for, not what it happened to get.

use crate::common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{set_field, signal_field, small_file, N_RECORDS};
use palpa::ingest::edf::{self, Continuity, Variant};

struct Counting;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[test]
fn lying_sizes_allocate_nothing_large() {
    let dir = tempfile::tempdir().unwrap();
    let path = small_file(dir.path(), "liar.edf", Variant::Edf, Continuity::Continuous);
    // 99,999,999 records of 99,999,999 samples: ~2·10^16 bytes declared in a ~1 KB file.
    set_field(&path, signal_field(3, "spr", 0), "99999999");
    set_field(&path, N_RECORDS, "99999999");

    LARGEST.store(0, Ordering::Relaxed);
    let err = edf::read(&path).unwrap_err().to_string();
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(err.contains("number of data records"), "{err}");
    assert!(
        largest < 64 * 1024,
        "largest allocation {largest} bytes for a lying 1 KB file"
    );

    // Control: an honest file's samples do show up in the count.
    let honest = small_file(
        dir.path(),
        "honest.edf",
        Variant::Edf,
        Continuity::Continuous,
    );
    LARGEST.store(0, Ordering::Relaxed);
    let data = edf::read(&honest).unwrap();
    assert_eq!(data.signals[0].1.len(), 30);
    assert!(LARGEST.load(Ordering::Relaxed) >= 30 * 8);
}
