#include "imainit/tree.h"

#include "imainit/xattr.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <mutex>
#include <openssl/err.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <unordered_map>

namespace imainit
{

namespace
{

constexpr const char *xattr_ima = "security.ima";
constexpr const char *xattr_evm = "security.evm";

// ---- walking ----

bool excluded(const TreeWalkOptions &opts, const std::string &rel, const char *name)
{
	for (auto &pat : opts.exclude) {
		const char *subject = pat.find('/') == std::string::npos ? name : rel.c_str();
		if (::fnmatch(pat.c_str(), subject, 0) == 0)
			return true;
	}
	return false;
}

struct DirCloser {
	void operator()(DIR *d) const { ::closedir(d); }
};

struct Walker {
	const TreeWalkOptions &opts;
	TreeListing &out;
	dev_t root_dev;

	Status walk(int dirfd, const std::string &prefix)
	{
		// fdopendir takes over the descriptor; dup so dirfd stays the
		// caller's (the root's belongs to our caller).
		std::string where = "cannot read directory " + (prefix.empty() ? "." : prefix);
		int fd = ::dup(dirfd);
		if (fd < 0)
			return fail_errno(where);
		DIR *d = ::fdopendir(fd);
		if (!d) {
			::close(fd);
			return fail_errno(where);
		}
		std::unique_ptr<DIR, DirCloser> dir(d);
		// A dup shares the file offset: a directory read before (by
		// an earlier walk of the same root) would look empty.
		::rewinddir(d);
		// Collect first, recurse afterwards: only one directory stream is
		// open at any time, and a deep tree costs one descriptor per level.
		std::vector<std::string> subdirs;
		errno = 0;
		while (struct dirent *de = ::readdir(d)) {
			std::string_view name = de->d_name;
			if (name == "." || name == "..")
				continue;
			std::string rel = prefix + std::string(name);
			unsigned type = de->d_type;
			if (type == DT_UNKNOWN) {
				// Filesystems without d_type (some network and FUSE ones).
				struct stat st;
				if (::fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
					return fail_errno("cannot stat " + rel);
				type = S_ISDIR(st.st_mode)   ? DT_DIR
				       : S_ISREG(st.st_mode) ? DT_REG
							     : DT_LNK;
			}
			if (excluded(opts, rel, de->d_name)) {
				out.excluded++;
			} else if (type == DT_DIR) {
				subdirs.push_back(std::string(name));
			} else if (type == DT_REG) {
				out.files.push_back(std::move(rel));
			} else {
				// Like evmctl -r: only regular files carry signatures.
				// A symlink's target is labelled where it lives.
				out.skipped++;
			}
			errno = 0;
		}
		if (errno != 0)
			return fail_errno(where);
		dir.reset();

		for (auto &name : subdirs) {
			std::string rel = prefix + name;
			UniqueFd sub(::openat(dirfd, name.c_str(),
					      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
			if (!sub)
				return fail_errno("cannot open directory " + rel);
			struct statx stx;
			if (::statx(sub.get(), "", AT_EMPTY_PATH, STATX_TYPE, &stx) != 0)
				return fail_errno("cannot stat " + rel);
			// st_dev alone misses a bind mount of the same filesystem;
			// STATX_ATTR_MOUNT_ROOT (Linux 5.8) catches both.
			bool mount_root = (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
					  (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
			dev_t dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
			if (!opts.cross_mounts && (mount_root || dev != root_dev)) {
				out.mounts.push_back(rel);
				continue;
			}
			if (auto r = walk(sub.get(), rel + "/"); !r)
				return r;
		}
		return {};
	}
};

// ---- opening ----

// The directories a worker walked through last, outermost first. Files come
// in sorted order, so the next file mostly lies in the same directory or a
// near one: keeping the chain open turns the walk from the root (a third of
// all syscalls when labelling a tree) into one openat() per file. Each
// descriptor was reached by the same symlink-refusing walk, so opening
// beneath it is as safe as walking again.
class DirChain
{
      public:
	// The directory that holds path's last component, or -1 with errno
	// set (ELOOP for a symlink on the way, EXDEV for "..").
	int open_parent(int rootfd, std::string_view path)
	{
		size_t depth = 0, start = 0;
		for (size_t slash; (slash = path.find('/', start)) != std::string_view::npos;
		     start = slash + 1, depth++) {
			std::string_view comp = path.substr(start, slash - start);
			if (depth < dirs_.size() && dirs_[depth].first == comp)
				continue;
			dirs_.resize(depth);
			if (comp == "..") {
				errno = EXDEV;
				return -1;
			}
			int at = depth ? dirs_.back().second.get() : rootfd;
			std::string name(comp);
			int next = ::openat(at, name.c_str(),
					    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (next < 0) {
				// O_DIRECTORY wins over O_NOFOLLOW: a symlink to a
				// directory fails with ENOTDIR, not ELOOP.
				int err = errno;
				struct stat lst;
				if (err == ENOTDIR &&
				    ::fstatat(at, name.c_str(), &lst, AT_SYMLINK_NOFOLLOW) == 0 &&
				    S_ISLNK(lst.st_mode))
					err = ELOOP;
				errno = err;
				return -1;
			}
			dirs_.emplace_back(std::move(name), UniqueFd(next));
		}
		dirs_.resize(depth);
		return depth ? dirs_.back().second.get() : rootfd;
	}

      private:
	std::vector<std::pair<std::string, UniqueFd>> dirs_;
};

Result<UniqueFd> open_beneath(int rootfd, const std::string &path, struct stat &st, DirChain &chain)
{
	// O_NONBLOCK: a path swapped for a FIFO after the walk must fail the
	// S_ISREG check below, not hang the open.
	constexpr int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	// Walk the components, refusing a symlink at each step. Not openat2()
	// with RESOLVE_BENEATH: Yocto labels its rootfs under pseudo (its
	// fakeroot), whose syscall() wrapper does not know openat2 and corrupts
	// the heap.
	size_t base = path.rfind('/');
	std::string name = base == std::string::npos ? path : path.substr(base + 1);
	int at = chain.open_parent(rootfd, path);
	int fd = -1;
	if (at >= 0) {
		if (name == "..")
			errno = EXDEV;
		else
			fd = ::openat(at, name.c_str(), flags);
	}
	if (fd < 0) {
		if (errno == ELOOP)
			return fail("is or passes through a symlink (not followed)", ELOOP);
		if (errno == EXDEV)
			return fail("path leaves the tree", EXDEV);
		return fail_errno("cannot open");
	}
	UniqueFd f(fd);
	if (::fstat(fd, &st) != 0)
		return fail_errno("cannot stat");
	if (!S_ISREG(st.st_mode))
		return fail("not a regular file any more");
	return f;
}

// ---- per-thread state ----

using MdPtr = std::unique_ptr<EVP_MD, ossl::Deleter<EVP_MD_free>>;

// Each worker keeps its own digest context, read buffer and algorithm,
// fetched once: OpenSSL 3 fetches the implementation of a legacy EVP_MD
// such as EVP_sha256() again, under a lock, on every init.
class Hasher
{
      public:
	Result<Digest> digest(int fd, HashAlgo algo)
	{
		auto &md = mds_[static_cast<size_t>(algo) & 7];
		if (!md) {
			md.reset(EVP_MD_fetch(nullptr, std::string(hash_algo_name(algo)).c_str(),
					      nullptr));
			if (!md)
				return fail("cannot fetch " + std::string(hash_algo_name(algo)) +
					    ": " + ossl::last_error());
		}
		if (!ctx_)
			ctx_.reset(EVP_MD_CTX_new());
		if (buf_.empty())
			buf_.resize(256 << 10);
		if (!ctx_ || !EVP_DigestInit_ex2(ctx_.get(), md.get(), nullptr))
			return fail("digest init failed: " + ossl::last_error());
		// pread from 0: the caller may already have read from fd.
		off_t off = 0;
		for (;;) {
			ssize_t n = ::pread(fd, buf_.data(), buf_.size(), off);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				return fail_errno("read");
			}
			if (n == 0)
				break;
			if (!EVP_DigestUpdate(ctx_.get(), buf_.data(), static_cast<size_t>(n)))
				return fail("digest failed: " + ossl::last_error());
			off += n;
		}
		Digest out(static_cast<size_t>(EVP_MD_get_size(md.get())));
		unsigned int len = 0;
		if (!EVP_DigestFinal_ex(ctx_.get(), out.data(), &len))
			return fail("digest failed: " + ossl::last_error());
		return out;
	}

      private:
	std::array<MdPtr, 8> mds_;
	ossl::MdCtx ctx_;
	Bytes buf_;
};

// A per-thread copy of a private key. OpenSSL's RSA blinding factor belongs
// to the key object and to the thread that set it up; every other thread
// shares a second one under a lock. A copy per thread keeps each signature
// free of locks.
struct KeyCopy {
	std::optional<PrivateKey> copy;
	const PrivateKey *key = nullptr;

	explicit KeyCopy(const PrivateKey *k) : key(k)
	{
		if (!k)
			return;
		if (EVP_PKEY *dup = EVP_PKEY_dup(k->get())) {
			copy.emplace(ossl::PKey(dup), k->keyid());
			copy->path = k->path;
			key = &*copy;
		}
		// A key that cannot be copied only costs the sharing above;
		// leave no stale error behind for a later failure message.
		ERR_clear_error();
	}
};

std::string xattr_error(const char *name, int err)
{
	switch (err) {
	case ENOTSUP:
		return std::string(name) + ": filesystem does not support security.* xattrs";
	case EPERM:
		return std::string(name) +
		       ": not permitted (security.* xattrs need CAP_SYS_ADMIN, and an "
		       "immutable or append-only file takes none)";
	case ENOSPC:
	case EDQUOT:
		return std::string(name) + ": no space for the xattr";
	default:
		return std::string(name) + ": cannot set";
	}
}

// Inserts or replaces name in a kernel-ordered xattr list.
void put_xattr(Xattrs &xattrs, const std::string &name, Bytes value)
{
	for (auto &[n, v] : xattrs)
		if (n == name) {
			v = std::move(value);
			return;
		}
	auto rank = [](std::string_view n) {
		return std::find(evm_protected_xattrs.begin(), evm_protected_xattrs.end(), n) -
		       evm_protected_xattrs.begin();
	};
	auto pos = std::find_if(xattrs.begin(), xattrs.end(),
				[&](auto &x) { return rank(x.first) > rank(name); });
	xattrs.emplace(pos, name, std::move(value));
}

// Files with the same content have the same digest, and a signature over
// a digest holds for every file that has it: RSA PKCS#1 v1.5 even gives the
// same bytes, and an ECDSA signature is as valid on the copy as on the
// original. Real trees repeat themselves (a quarter of /usr/include and
// /usr/share/i18n are duplicates), so each digest is signed once. The same
// holds for EVM digests: same content, xattrs, owner and mode.
class SignatureCache
{
      public:
	std::optional<Bytes> find(const Digest &d)
	{
		std::lock_guard lock(mu_);
		auto it = map_.find(key(d));
		if (it == map_.end())
			return std::nullopt;
		return it->second;
	}

	void insert(const Digest &d, const Bytes &sig)
	{
		std::lock_guard lock(mu_);
		// Bounded: a tree of millions of distinct files must not hold
		// every signature in memory.
		if (map_.size() < max_entries)
			map_.emplace(key(d), sig);
		made_++;
	}

	size_t made() const { return made_; }

      private:
	static std::string key(const Digest &d) { return std::string(d.begin(), d.end()); }
	static constexpr size_t max_entries = 1 << 16;
	std::mutex mu_;
	std::unordered_map<std::string, Bytes> map_;
	size_t made_ = 0;
};

Result<Bytes> sign_cached(SignatureCache &cache, const PrivateKey &key, HashAlgo algo,
			  const Digest &digest, SigType type)
{
	// Lookup and insert are not one step: two workers on identical files at
	// the same moment may both sign. Both signatures are valid; the cache
	// only saves work, it is not what makes the labels correct.
	if (auto hit = cache.find(digest))
		return std::move(*hit);
	auto sig = sign_digest(key, algo, digest, type);
	if (sig)
		cache.insert(digest, *sig);
	return sig;
}

struct SignCaches {
	SignatureCache ima, evm;
};

Status sign_one(int rootfd, const std::string &path, const TreeSignOptions &opts, Hasher &hasher,
		DirChain &chain, const PrivateKey &ima_key, const PrivateKey *evm_key,
		SignCaches &caches)
{
	struct stat st;
	auto fd = open_beneath(rootfd, path, st, chain);
	if (!fd)
		return std::unexpected(fd.error());
	auto digest = hasher.digest(fd->get(), opts.algo);
	if (!digest)
		return std::unexpected(digest.error());
	// The portable signature covers whatever other protected xattrs the
	// file carries (an SELinux label, capabilities), read before the
	// security.ima written below, which joins them from memory: the
	// filesystem stores it as given.
	Xattrs xattrs;
	if (evm_key) {
		auto have = read_evm_xattrs(fd->get());
		if (!have)
			return std::unexpected(have.error());
		xattrs = std::move(*have);
	}
	auto ima = sign_cached(caches.ima, ima_key, opts.algo, *digest, SigType::ima_digsig);
	if (!ima)
		return wrap(ima.error(), xattr_ima);
	if (!opts.dry_run && ::fsetxattr(fd->get(), xattr_ima, ima->data(), ima->size(), 0) != 0)
		return fail_errno(xattr_error(xattr_ima, errno));
	if (!evm_key)
		return {};

	put_xattr(xattrs, xattr_ima, std::move(*ima));
	FileMeta meta{ st.st_uid, st.st_gid, st.st_mode };
	auto evm_digest = evm_portable_digest(opts.algo, xattrs, meta);
	if (!evm_digest)
		return wrap(evm_digest.error(), xattr_evm);
	auto evm = sign_cached(caches.evm, *evm_key, opts.algo, *evm_digest, SigType::evm_portable);
	if (!evm)
		return wrap(evm.error(), xattr_evm);
	if (!opts.dry_run && ::fsetxattr(fd->get(), xattr_evm, evm->data(), evm->size(), 0) != 0)
		return fail_errno(xattr_error(xattr_evm, errno));
	return {};
}

Status verify_labels(int fd, std::span<const PublicKey *const> keys, bool evm, Hasher &hasher)
{
	auto ima = get_xattr(fd, xattr_ima);
	if (!ima)
		return std::unexpected(ima.error());
	if (!*ima)
		return fail("missing security.ima");
	auto sig = parse_signature_v2(**ima);
	if (!sig)
		return wrap(sig.error(), xattr_ima);
	if (sig->type != SigType::ima_digsig)
		return fail("security.ima: not an IMA signature (type 0x05 is an EVM portable "
			    "signature)");
	auto digest = hasher.digest(fd, sig->algo);
	if (!digest)
		return std::unexpected(digest.error());
	if (auto r = verify_digest(**ima, *digest, keys); !r)
		return wrap(r.error(), xattr_ima);
	if (!evm)
		return {};

	auto value = get_xattr(fd, xattr_evm);
	if (!value)
		return std::unexpected(value.error());
	if (!*value)
		return fail("missing security.evm");
	auto xattrs = read_evm_xattrs(fd);
	if (!xattrs)
		return std::unexpected(xattrs.error());
	struct stat st;
	if (::fstat(fd, &st) != 0)
		return fail_errno("cannot stat");
	// evm_portable_verify names security.evm in its own messages.
	return evm_portable_verify(**value, *xattrs, FileMeta{ st.st_uid, st.st_gid, st.st_mode },
				   keys);
}

// ---- running on all cores ----

unsigned worker_count(unsigned jobs, size_t total)
{
	// Two workers per core: a worker setting an xattr often sleeps in the
	// filesystem (ext4 takes a journal handle and locks the shared xattr
	// block), as does one reading a file not in the page cache. With one
	// per core, that core would idle; labelling a tree on ext4 spent a
	// fifth of its time so.
	if (jobs == 0)
		jobs = 2 * std::max(1u, std::thread::hardware_concurrency());
	jobs = std::min(jobs, 256u);
	return static_cast<unsigned>(std::max<size_t>(1, std::min<size_t>(jobs, total)));
}

// Calls make_worker() once on each of `jobs` threads; the function it
// returns is then called with file indexes taken from a shared counter
// until none are left or one returns false. The calling thread only
// reports progress.
template <class MakeWorker>
void run_parallel(size_t total, unsigned jobs, const TreeProgress &progress, MakeWorker make_worker)
{
	std::atomic<size_t> next{ 0 }, done{ 0 };
	std::atomic<bool> stop{ false };
	std::mutex mu;
	std::condition_variable cv;
	unsigned running = 0;

	auto body = [&] {
		auto work = make_worker();
		for (;;) {
			if (stop.load(std::memory_order_relaxed))
				break;
			size_t i = next.fetch_add(1, std::memory_order_relaxed);
			if (i >= total)
				break;
			if (!work(i))
				stop = true;
			done.fetch_add(1, std::memory_order_relaxed);
		}
		std::lock_guard lock(mu);
		running--;
		cv.notify_all();
	};

	std::vector<std::thread> threads;
	threads.reserve(jobs);
	for (unsigned t = 0; t < jobs; t++) {
		std::lock_guard lock(mu);
		try {
			threads.emplace_back(body);
		} catch (const std::system_error &) {
			// Out of threads (EAGAIN): carry on with those we have.
			break;
		}
		running++;
	}
	if (threads.empty()) {
		running = 1;
		body();
	}

	{
		std::unique_lock lock(mu);
		auto finished = [&] { return running == 0; };
		if (!progress.report)
			cv.wait(lock, finished);
		// One report per interval; the last one comes after the join.
		while (progress.report && !cv.wait_for(lock, progress.interval, finished)) {
			lock.unlock();
			progress.report(done.load(), total);
			lock.lock();
		}
	}
	for (auto &t : threads)
		t.join();
	if (progress.report)
		progress.report(done.load(), total);
}

} // namespace

Result<TreeListing> list_tree(int rootfd, const TreeWalkOptions &opts)
{
	struct stat st;
	if (::fstat(rootfd, &st) != 0)
		return fail_errno("cannot stat the tree's root");
	if (!S_ISDIR(st.st_mode))
		return fail("not a directory", ENOTDIR);
	TreeListing out;
	Walker w{ opts, out, st.st_dev };
	if (auto r = w.walk(rootfd, ""); !r)
		return std::unexpected(r.error());
	std::sort(out.files.begin(), out.files.end());
	std::sort(out.mounts.begin(), out.mounts.end());
	return out;
}

Result<UniqueFd> open_tree_file(int rootfd, const std::string &path)
{
	struct stat st;
	DirChain chain;
	return open_beneath(rootfd, path, st, chain);
}

Result<TreeSignStats> sign_tree(int rootfd, const std::vector<std::string> &files,
				const TreeSignOptions &opts)
{
	if (!opts.ima_key)
		return fail("no signing key");
	SignCaches caches;
	std::mutex mu;
	std::optional<Error> first;
	run_parallel(files.size(), worker_count(opts.jobs, files.size()), opts.progress, [&] {
		return
		    [&, hasher = std::make_shared<Hasher>(), chain = std::make_shared<DirChain>(),
		     ima = std::make_shared<KeyCopy>(opts.ima_key),
		     evm = std::make_shared<KeyCopy>(opts.evm_key)](size_t i) {
			    auto r = sign_one(rootfd, files[i], opts, *hasher, *chain, *ima->key,
					      evm->key, caches);
			    if (r)
				    return true;
			    std::lock_guard lock(mu);
			    if (!first)
				    first = Error{ r.error().err, files[i] + ": " + r.error().msg };
			    return false;
		    };
	});
	if (first)
		return std::unexpected(*first);
	return TreeSignStats{ files.size(), caches.ima.made(), caches.evm.made() };
}

Status verify_file_labels(int fd, std::span<const PublicKey *const> keys, bool evm)
{
	Hasher hasher;
	return verify_labels(fd, keys, evm, hasher);
}

std::vector<TreeFailure> verify_tree(int rootfd, const std::vector<std::string> &files,
				     const TreeVerifyOptions &opts)
{
	std::mutex mu;
	std::vector<TreeFailure> failures;
	run_parallel(files.size(), worker_count(opts.jobs, files.size()), opts.progress, [&] {
		return [&, hasher = std::make_shared<Hasher>(),
			chain = std::make_shared<DirChain>()](size_t i) {
			struct stat st;
			auto fd = open_beneath(rootfd, files[i], st, *chain);
			Status r;
			if (!fd)
				r = std::unexpected(fd.error());
			else
				r = verify_labels(fd->get(), opts.keys, opts.evm, *hasher);
			if (!r) {
				std::lock_guard lock(mu);
				failures.push_back({ files[i], r.error().what() });
			}
			return true;
		};
	});
	std::sort(failures.begin(), failures.end(),
		  [](auto &a, auto &b) { return a.path < b.path; });
	return failures;
}

} // namespace imainit
