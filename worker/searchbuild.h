/* searchbuild.h: has the search index built beside the digit store, away
 * from the worker's loop. */
#ifndef NTHPI_SEARCHBUILD_H
#define NTHPI_SEARCHBUILD_H

/*
 * If the search index beside the store at store_path was not built from
 * the store as it is (searchidx_fresh), starts a process of its own, at
 * low priority, that builds it (searchidx_build) and logs how long that
 * took or why it failed, then ends. The worker does not wait for it: at
 * 10^8 decimals it takes a few seconds, and searches answer "being built"
 * meanwhile. Call it when the store was found whole and sound.
 */
void searchbuild_start(const char *store_path);

#endif
