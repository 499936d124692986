// Source description (RFC 3550 6.5): chunks of (SSRC, items), each chunk's
// item list ended by null octets up to the next 32-bit boundary.
#pragma once

#include "protocol/rtcp/InputIterator.hpp"
#include "protocol/rtcp/Packet.hpp"
#include "utils/Bytes.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sfu::rtcp {

enum class SdesType : uint8_t {
    End = 0,
    Cname = 1,
    Name = 2,
    Email = 3,
    Phone = 4,
    Loc = 5,
    Tool = 6,
    Note = 7,
    Priv = 8,
};

struct SdesItemView {
    uint8_t type;
    std::string_view value; // raw octets; PRIV keeps its prefix inside
};

// One chunk, already validated by SdesView::parse.
class SdesChunkView {
public:
    class Iterator : public InputIterator<Iterator, SdesItemView> {
    public:
        using InputIterator::operator++;

        Iterator() = default;
        explicit Iterator(const uint8_t* p) : p_(p) {}
        SdesItemView operator*() const {
            return {p_[0], {reinterpret_cast<const char*>(p_ + 2), p_[1]}};
        }
        Iterator& operator++();
        bool operator==(const Iterator& o) const { return p_ == o.p_; }

    private:
        const uint8_t* p_ = nullptr; // nullptr at the end
    };

    SdesChunkView(const uint8_t* data, size_t size) : data_(data), size_(size) {}

    uint32_t ssrc() const { return bytes::get32(data_); }
    // Chunk size in bytes, SSRC and terminating null octets included.
    size_t size() const { return size_; }
    Iterator begin() const { return Iterator(data_[4] == 0 ? nullptr : data_ + 4); }
    Iterator end() const { return Iterator(); }
    // The first item of the given type, if any.
    std::optional<std::string_view> find(SdesType type) const;
    std::optional<std::string_view> cname() const { return find(SdesType::Cname); }

private:
    const uint8_t* data_;
    size_t size_;
};

class SdesView {
public:
    class Iterator : public InputIterator<Iterator, SdesChunkView> {
    public:
        using InputIterator::operator++;

        Iterator() = default;
        Iterator(const uint8_t* p, size_t left, size_t chunks);
        SdesChunkView operator*() const { return {p_, chunkSize_}; }
        Iterator& operator++();
        bool operator==(const Iterator& o) const { return chunks_ == o.chunks_; }

    private:
        void load();
        const uint8_t* p_ = nullptr;
        size_t left_ = 0;
        size_t chunks_ = 0; // chunks still to visit, 0 at the end
        size_t chunkSize_ = 0;
    };

    // Type SDES with SC well-formed chunks: every item inside the body and each
    // chunk terminated. Bytes after the last chunk are tolerated.
    static std::optional<SdesView> parse(const PacketView& pkt);

    size_t chunkCount() const { return pkt_.count(); }
    Iterator begin() const { return Iterator(pkt_.body(), pkt_.bodySize(), pkt_.count()); }
    Iterator end() const { return Iterator(); }
    const PacketView& packet() const { return pkt_; }

    // Size of the chunk at `p` given `avail` bytes, or 0 when malformed.
    static size_t chunkSize(const uint8_t* p, size_t avail);

private:
    explicit SdesView(const PacketView& pkt) : pkt_(pkt) {}
    PacketView pkt_;
};

struct SdesItem {
    uint8_t type = static_cast<uint8_t>(SdesType::Cname);
    std::string value; // at most 255 octets
    bool operator==(const SdesItem&) const = default;
};

struct SdesChunk {
    uint32_t ssrc = 0;
    std::vector<SdesItem> items;

    size_t size() const;
    bool operator==(const SdesChunk&) const = default;
};

struct Sdes {
    std::vector<SdesChunk> chunks;

    static Sdes from(const SdesView& v);
    size_t size() const;
    // 0 when `cap` is too small, there are more than 31 chunks, an item is
    // longer than 255 octets or an item has type 0.
    size_t serialize(uint8_t* out, size_t cap) const;
    bool operator==(const Sdes&) const = default;
};

// Allocation-free writer for the common case: one chunk with a CNAME.
size_t writeSdesCname(uint32_t ssrc, std::string_view cname, uint8_t* out, size_t cap);

} // namespace sfu::rtcp
