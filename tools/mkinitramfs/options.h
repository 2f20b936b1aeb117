// Command-line helpers the subcommands share: error reporting in one
// format, key and certificate loading with the debug-key refusal, and
// SOURCE_DATE_EPOCH.
#pragma once

#include "imainit/keys.h"
#include "imainit/result.h"
#include "imainit/tree.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace mkinitramfs
{

// "<prog>: <msg>" on stderr; returns 1, the failure exit status.
int report_failure(std::string_view prog, const std::string &msg);
// "<prog>: <msg>" and a pointer to --help on stderr; returns 2.
int report_usage_error(std::string_view prog, const std::string &msg);

// How keys are loaded: one passphrase source for every encrypted key
// (never argv: it would show in /proc/<pid>/cmdline), and whether the
// published keys of keys/debug/ are acceptable.
struct KeyOptions {
	imainit::Passphrase pass;
	bool allow_debug_keys = false;
};

// Sets o.pass from --pass-file / --pass-env values; giving both is a
// usage error (which one would win?).
imainit::Status set_passphrase(KeyOptions &o, const std::string &file, const std::string &env);

// Fails, naming path, when key is one of the published debug keys and
// they are not allowed.
imainit::Status refuse_debug_key(EVP_PKEY *key, const std::string &path, const KeyOptions &o);

// A private key (PEM, RSA or EC, maybe encrypted), debug keys refused.
imainit::Result<imainit::PrivateKey> load_key(const std::string &path, const KeyOptions &o);
// An X.509 certificate (PEM or DER), debug keys refused; a bare public key
// fails: a keyring takes certificates only.
imainit::Result<imainit::PublicKey> load_cert(const std::string &path, const KeyOptions &o);
// A certificate or a bare public key, debug keys refused.
imainit::Result<imainit::PublicKey> load_verification_key(const std::string &path,
							  const KeyOptions &o);

// The certificate's DER, or a bare key's SubjectPublicKeyInfo DER.
imainit::Result<imainit::Bytes> public_key_der(const imainit::PublicKey &key);

// SOURCE_DATE_EPOCH (reproducible-builds.org): the timestamp of every
// entry written, 0 when unset. Limited to 32 bits: the cpio newc mtime
// field is 8 hex digits.
imainit::Result<uint32_t> source_date_epoch();

// A whole string as an unsigned decimal number no larger than max.
imainit::Result<unsigned long> parse_unsigned(std::string_view s, unsigned long max);
// --jobs: a number of worker threads, 1 to 1024; the message names the option.
imainit::Result<unsigned> parse_jobs(std::string_view s);

// "\r1234/8792 files" on a terminal, nothing otherwise (a log file full of
// carriage returns helps nobody); end_progress() clears that line.
imainit::TreeProgress terminal_progress(bool quiet);
void end_progress(const imainit::TreeProgress &p);

} // namespace mkinitramfs
