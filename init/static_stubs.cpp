// libcrypto.a references dlopen() (loading provider modules and engines)
// and the resolver (BIO socket helpers). /init loads no shared object and
// resolves no host name, but glibc's versions of these in a static binary
// need, at run time, the very shared libraries a static /init does without,
// and ld warns about each. These definitions take their place and fail the
// way the real ones do when nothing is available.
//
// dlopen() itself cannot be replaced by definition, as glibc's own static
// start-up code pulls in the object that defines it; init/CMakeLists.txt
// links with --wrap=dlopen so that libcrypto's calls land here instead.
#include <dlfcn.h>
#include <netdb.h>

extern "C" {

void *__wrap_dlopen(const char *, int) { return nullptr; }

int getaddrinfo(const char *, const char *, const struct addrinfo *, struct addrinfo **)
{
	return EAI_FAIL;
}

void freeaddrinfo(struct addrinfo *) {}

struct hostent *gethostbyname(const char *)
{
	h_errno = NO_RECOVERY;
	return nullptr;
}

} // extern "C"
