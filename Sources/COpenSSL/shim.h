#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

// Macros Swift cannot import, as functions (the SwiftNIO way: small prefixed shims).
static inline long copenssl_set_tlsext_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}

static inline long copenssl_set_min_protocol_tls12(SSL_CTX *ctx) {
    return SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
}

static inline size_t copenssl_bio_pending(BIO *bio) {
    return BIO_ctrl_pending(bio);
}

// HMAC-SHA-256 with the key set once: a context made here is reset and reused per message,
// so a worker signs its CSRF tokens without fetching the algorithm again each time.
static inline EVP_MAC_CTX *copenssl_hmac_sha256_new(const unsigned char *key, size_t length) {
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL) return NULL;
    EVP_MAC_CTX *context = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);
    if (context == NULL) return NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_MAC_init(context, key, length, params) != 1) {
        EVP_MAC_CTX_free(context);
        return NULL;
    }
    return context;
}

static inline int copenssl_hmac_sha256(EVP_MAC_CTX *context, const unsigned char *message, size_t length,
                                       unsigned char output[32]) {
    size_t written = 0;
    if (EVP_MAC_init(context, NULL, 0, NULL) != 1) return 0;  // the same key again
    if (EVP_MAC_update(context, message, length) != 1) return 0;
    return EVP_MAC_final(context, output, &written, 32) == 1 && written == 32;
}

#endif
