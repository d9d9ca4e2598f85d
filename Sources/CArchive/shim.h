// libarchive's reading and writing interfaces (tar, gzip) and zlib's inflate for Swift.
#ifndef FEEDBACKLOOP_CARCHIVE_SHIM_H
#define FEEDBACKLOOP_CARCHIVE_SHIM_H

#include <archive.h>
#include <archive_entry.h>
// zlib checks what libarchive's gzip reader skips: each gzip member's CRC-32 and length trailer.
#include <zlib.h>

// The entry file types are cast macros (`((__LA_MODE_T)0100000)`), which Swift does not import.
static const unsigned int fl_archive_regular_file = AE_IFREG;
static const unsigned int fl_archive_directory = AE_IFDIR;
static const unsigned int fl_archive_symbolic_link = AE_IFLNK;

#endif
