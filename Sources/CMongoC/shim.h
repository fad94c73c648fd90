#ifndef CMONGOC_SHIM_H
#define CMONGOC_SHIM_H
#include <mongoc/mongoc.h>

/// bson_t and bson_iter_t are declared over-aligned and import as OpaquePointer, so Swift allocates their
/// storage itself; these give the size and alignment to allocate.
static inline size_t CMongoC_bson_iter_size(void) { return sizeof(bson_iter_t); }
static inline size_t CMongoC_bson_iter_alignment(void) { return _Alignof(bson_iter_t); }
static inline size_t CMongoC_bson_size(void) { return sizeof(bson_t); }
static inline size_t CMongoC_bson_alignment(void) { return _Alignof(bson_t); }
/// The bytes and length of a document, which Swift reads directly (the fields of bson_t are not importable).
static inline const uint8_t *CMongoC_bson_data(const bson_t *document) { return bson_get_data(document); }
static inline uint32_t CMongoC_bson_length(const bson_t *document) { return document->len; }
#endif
