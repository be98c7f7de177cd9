/*
 * gatehouse provider ABI, version 1 — pure C.
 *
 * Why C and bytes: C++ objects, exceptions, allocators and type_info must never cross the shared-object
 * boundary. A provider exports exactly one symbol, `gatehouse_provider_v1`, returning a vtable of plain C
 * functions. Requests and responses are serialized `gatehouse.provider.v1.Request` / `Response` protobuf
 * messages (proto/gatehouse/provider/v1/provider.proto).
 *
 * Naming says who implements what:
 *   gatehouse_provider_*  implemented by the provider, called by the host;
 *   gatehouse_host_*      implemented by the host, called by the provider.
 *
 * Ownership: every buffer passed as (pointer, length) is borrowed for the duration of the call only.
 * Responses are delivered through a sink callback; the host copies the bytes before the sink returns, so
 * no memory is ever freed on the other side's heap.
 *
 * Compatibility (GStreamer's rule): the host accepts a provider when abi_major equals the host's and
 * abi_minor is not newer than the host's. Minor versions only append fields at the end of the structs;
 * struct_size tells how much of a struct the other side filled in.
 *
 * Provider authors do not use this header directly: GATEHOUSE_PROVIDER in <gatehouse/sdk.hpp> generates it.
 */
#ifndef GATEHOUSE_ABI_H
#define GATEHOUSE_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GATEHOUSE_ABI_MAJOR 1
#define GATEHOUSE_ABI_MINOR 0

/* The one symbol a provider exports. */
#define GATEHOUSE_PROVIDER_ENTRY_SYMBOL "gatehouse_provider_v1"

#if defined(__GNUC__)
#define GATEHOUSE_ABI_EXPORT __attribute__((visibility("default")))
#else
#define GATEHOUSE_ABI_EXPORT
#endif

/* Result of create/invoke at the C level. Anything other than OK means the sink may not have received
 * a Response; the host then reports the call as failed with a message naming the provider. */
typedef enum gatehouse_result {
  GATEHOUSE_RESULT_OK = 0,
  GATEHOUSE_RESULT_ERROR = 1 /* a Response carrying a Status was written to the sink */
} gatehouse_result;

/* Implemented by the host: receives response bytes; copies them before returning. */
typedef void (*gatehouse_host_sink_fn)(void* sink_context, const uint8_t* bytes, size_t length);

/* Log levels passed to gatehouse_host_api.log. */
typedef enum gatehouse_log_level {
  GATEHOUSE_LOG_DEBUG = 0,
  GATEHOUSE_LOG_INFO = 1,
  GATEHOUSE_LOG_WARN = 2,
  GATEHOUSE_LOG_ERROR = 3
} gatehouse_log_level;

/* Services the host offers to a provider instance. Outlives the instance it was handed to. */
typedef struct gatehouse_host_api {
  uint32_t struct_size; /* sizeof(gatehouse_host_api) as the host compiled it */
  void* host_context;
  /* Implemented by the host: log one message (UTF-8, not NUL-terminated). Never log secrets. */
  void (*log)(void* host_context, int32_t level, const char* message, size_t length);
} gatehouse_host_api;

typedef struct gatehouse_provider_vtable {
  uint32_t struct_size; /* sizeof(gatehouse_provider_vtable) as the provider compiled it */
  uint16_t abi_major;   /* GATEHOUSE_ABI_MAJOR the provider was built with */
  uint16_t abi_minor;   /* GATEHOUSE_ABI_MINOR the provider was built with */

  /* Identity: static NUL-terminated UTF-8 strings owned by the provider library. */
  const char* publisher;
  const char* name;
  const char* version;
  const char* framework_version; /* SDK version */

  /* Implemented by the provider: create an instance from serialized ConfigureRequest bytes.
   * On success sets *out_instance and returns OK. On failure writes a Response with a Status to the sink
   * and returns ERROR; *out_instance is left NULL. Must not throw. */
  gatehouse_result (*create)(const gatehouse_host_api* host, const uint8_t* configure_request,
                             size_t configure_request_length, void** out_instance,
                             gatehouse_host_sink_fn sink, void* sink_context);

  /* Implemented by the provider: handle one serialized Request and write exactly one serialized Response
   * to the sink. `instance` may be NULL for Describe (the only call valid before create). Safe to call
   * concurrently on one instance. Must not throw. */
  gatehouse_result (*invoke)(void* instance, const uint8_t* request, size_t request_length,
                             gatehouse_host_sink_fn sink, void* sink_context);

  /* Implemented by the provider: destroy an instance made by create. No call is in flight. */
  void (*destroy)(void* instance);

  /* Room to grow within ABI major 1; zero-filled. */
  void* reserved[8];
} gatehouse_provider_vtable;

/* Implemented by the provider: the entry point. Returns a pointer to a static vtable. */
typedef const gatehouse_provider_vtable* (*gatehouse_provider_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* GATEHOUSE_ABI_H */
