/* CRC-32 (IEEE 802.3, as zlib), the checksum DynamoDB sends in x-amz-crc32. */
#ifndef DR_CRC32_H
#define DR_CRC32_H

#include <stddef.h>
#include <stdint.h>

uint32_t dr__crc32(const void *data, size_t len);

#endif
