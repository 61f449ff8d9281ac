/* stream.h — a file read as a stream of bytes, inflated on the way when it
 * is gzip-compressed (the two magic bytes 1f 8b tell) and passed through
 * unchanged otherwise, as zlib's gzread does. Inflating goes through Intel's
 * ISA-L (Debian's libisal), which picks its kernels by the CPU's
 * instruction sets: on cifar-10-binary.tar.gz it took 0.62 s of CPU where
 * zlib took 0.86 s. Concatenated gzip members are read one after another;
 * bytes after the last member that do not start another are ignored, as zlib
 * does. Every member's CRC-32 is checked. */
#ifndef NNLAB_STREAM_H
#define NNLAB_STREAM_H

#include <stddef.h>

typedef struct DataStream DataStream;

/* What went wrong, for the caller's message. */
enum { STREAM_OK, STREAM_TRUNCATED, STREAM_CORRUPT };

/* Takes the open file descriptor fd (closed by stream_close). NULL when out
 * of memory (fd is then still the caller's). */
DataStream *stream_open_fd(int fd);
/* Reads up to n bytes; returns how many (0 at the end of the data, or
 * after an error), or -1 when n > INT32_MAX. stream_status says why fewer
 * came. */
long stream_read(DataStream *s, void *buf, size_t n);
/* STREAM_OK, or what stopped the stream, with a reason in *why (static). */
int stream_status(const DataStream *s, const char **why);
/* 1 when the file is not gzip-compressed (its bytes are passed unchanged);
 * known once the first read has looked at the first bytes. */
int stream_direct(const DataStream *s);
void stream_close(DataStream *s);

#endif
