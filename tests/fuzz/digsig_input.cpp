#include "digsig_input.h"

namespace imainit::fuzz
{

namespace
{

struct Reader {
	std::span<const uint8_t> in;

	bool take(size_t n, std::span<const uint8_t> &out)
	{
		if (in.size() < n)
			return false;
		out = in.first(n);
		in = in.subspan(n);
		return true;
	}
	bool be(size_t n, uint32_t &out)
	{
		std::span<const uint8_t> b;
		if (!take(n, b))
			return false;
		out = 0;
		for (auto c : b)
			out = (out << 8) | c;
		return true;
	}
};

void put_be(Bytes &out, uint32_t v, size_t n)
{
	for (size_t i = n; i-- > 0;)
		out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

} // namespace

std::optional<EvmInput> decode_evm_input(std::span<const uint8_t> in)
{
	Reader r{ in };
	EvmInput out;
	uint32_t len, uid, gid, mode;
	if (!r.be(2, len) || !r.take(len, out.value) || !r.be(4, uid) || !r.be(4, gid) ||
	    !r.be(4, mode))
		return std::nullopt;
	out.meta = FileMeta{ uid, gid, mode };
	while (!r.in.empty()) {
		uint32_t nlen, vlen;
		std::span<const uint8_t> name, value;
		if (!r.be(1, nlen) || !r.take(nlen, name) || !r.be(2, vlen) || !r.take(vlen, value))
			return std::nullopt;
		out.xattrs.emplace_back(std::string(name.begin(), name.end()),
					Bytes(value.begin(), value.end()));
	}
	return out;
}

Bytes encode_evm_input(std::span<const uint8_t> value, const FileMeta &meta, const Xattrs &xattrs)
{
	Bytes out;
	put_be(out, static_cast<uint32_t>(value.size()), 2);
	out.insert(out.end(), value.begin(), value.end());
	put_be(out, meta.uid, 4);
	put_be(out, meta.gid, 4);
	put_be(out, meta.mode, 4);
	for (auto &[name, v] : xattrs) {
		put_be(out, static_cast<uint32_t>(name.size()), 1);
		out.insert(out.end(), name.begin(), name.end());
		put_be(out, static_cast<uint32_t>(v.size()), 2);
		out.insert(out.end(), v.begin(), v.end());
	}
	return out;
}

} // namespace imainit::fuzz
