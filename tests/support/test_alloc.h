/* Allocation-failure injection for tests, through the public dr_set_allocator() (as
 * jansson's test_chaos does): an allocator installed before main() counts every
 * allocation the library makes and can fail one of them. */
#ifndef DR_TEST_ALLOC_H
#define DR_TEST_ALLOC_H

/* Fail the allocation that comes `n` allocations from now (1 = the next one); 0 turns
 * failure off. Returns how many allocations happened since the previous call, so a test
 * can learn how many a call makes. Thread-safe; counts allocations of every thread. */
long dr_test_alloc_fail_after(long n);

/* (Re)install the counting allocator: for a test that replaced it with dr_set_allocator(). */
void dr_test_alloc_install(void);

#endif
