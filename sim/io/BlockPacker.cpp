#include "BlockPacker.hpp"

#include <libdeflate.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace alignsim {

namespace {

/// HDF5's shuffle filter (bytes of each element position grouped together) followed by its deflate
/// filter (a zlib stream, here from libdeflate, which writes the same format several times faster
/// than zlib), so that a chunk compressed here reads back through HDF5's own filters.
std::vector<unsigned char> shuffle_deflate(const void* data, std::size_t bytes, std::size_t element, int level) {
  const auto* in = static_cast<const unsigned char*>(data);
  const std::size_t n = bytes / element;
  std::vector<unsigned char> shuffled(bytes);
  for (std::size_t b = 0; b < element; ++b) {
    for (std::size_t i = 0; i < n; ++i) shuffled[b * n + i] = in[i * element + b];
  }
  struct Compressor {  // one per thread and level, kept for the thread's life
    int level = -1;
    libdeflate_compressor* c = nullptr;
    ~Compressor() {
      if (c) libdeflate_free_compressor(c);
    }
  };
  thread_local Compressor compressor;
  if (compressor.level != level) {
    if (compressor.c) libdeflate_free_compressor(compressor.c);
    compressor.c = libdeflate_alloc_compressor(level);
    compressor.level = level;
    if (!compressor.c) throw std::runtime_error("libdeflate could not allocate a compressor");
  }
  std::vector<unsigned char> out(libdeflate_zlib_compress_bound(compressor.c, bytes));
  const std::size_t size = libdeflate_zlib_compress(compressor.c, shuffled.data(), bytes, out.data(), out.size());
  if (size == 0) throw std::runtime_error("libdeflate failed to compress a chunk");
  out.resize(size);
  return out;
}

// The packed layout, in 64-bit words of this machine's byte order (every rank of a job runs the
// same build): a tag, first, count, stored, the number of chunks; then each chunk as its dataset,
// the number of offsets, the offsets, its size in bytes and the bytes, padded to a whole word.
constexpr std::uint64_t kTag = 0x314b4c424e47494cULL;  // "LIGNBLK1"

void put(std::vector<unsigned char>& out, std::uint64_t word) {
  const std::size_t at = out.size();
  out.resize(at + sizeof word);
  std::memcpy(out.data() + at, &word, sizeof word);
}

void put_chunk(std::vector<unsigned char>& out, ChunkedDataset dataset, const std::vector<std::uint64_t>& offset,
               const void* data, std::size_t size) {
  put(out, static_cast<std::uint64_t>(dataset));
  put(out, offset.size());
  for (const auto o : offset) put(out, o);
  put(out, size);
  const std::size_t at = out.size();
  out.resize(at + (size + 7) / 8 * 8, 0);
  std::memcpy(out.data() + at, data, size);
}

class Reader {
 public:
  Reader(const unsigned char* data, std::size_t size) : data_(data), size_(size) {}
  std::uint64_t word() {
    std::uint64_t w = 0;
    need(sizeof w);
    std::memcpy(&w, data_ + at_, sizeof w);
    at_ += sizeof w;
    return w;
  }
  const unsigned char* bytes(std::size_t n) {
    if (n > size_) throw std::runtime_error("a packed block is truncated");
    need((n + 7) / 8 * 8);
    const unsigned char* p = data_ + at_;
    at_ += (n + 7) / 8 * 8;
    return p;
  }
  bool done() const { return at_ == size_; }

 private:
  void need(std::size_t n) const {
    if (n > size_ - at_) throw std::runtime_error("a packed block is truncated");
  }
  const unsigned char* data_;
  std::size_t size_, at_ = 0;
};

}  // namespace

BlockPacker::BlockPacker(const Model& model, std::uint64_t runs, int block_runs, int deflate)
    : agents_(model.agents()), months_(model.months()), events_(model.events()),
      eras_(static_cast<int>(model.eras().size())), deflate_(deflate),
      chunk_runs_(std::min<std::uint64_t>(runs, static_cast<std::uint64_t>(effective_block_runs(block_runs)))) {}

std::vector<unsigned char> BlockPacker::pack(const RunBlock& b, bool raw_alignment) const {
  if (b.first % chunk_runs_ != 0 || static_cast<std::uint64_t>(b.count) > chunk_runs_) {
    throw std::logic_error("blocks must match the chunks of the output file");
  }
  std::vector<unsigned char> out;
  const bool alignment_chunks = deflate_ > 0 || raw_alignment;
  const std::uint64_t chunks = (events_ > 0) + (eras_ > 0) + (alignment_chunks ? static_cast<std::uint64_t>(b.stored) : 0);
  put(out, kTag);
  put(out, b.first);
  put(out, static_cast<std::uint64_t>(b.count));
  put(out, static_cast<std::uint64_t>(b.stored));
  put(out, chunks);
  // Event months and era means: one chunk each, padded to a whole chunk.
  if (events_ > 0) {
    std::vector<std::int16_t> months(chunk_runs_ * static_cast<std::size_t>(events_), -1);
    std::copy(b.event_month.begin(), b.event_month.end(), months.begin());
    const auto bytes = shuffle_deflate(months.data(), months.size() * 2, 2, 1);
    put_chunk(out, ChunkedDataset::EventMonth, {b.first, 0}, bytes.data(), bytes.size());
  }
  if (eras_ > 0) {
    const std::size_t per_run = static_cast<std::size_t>(eras_) * agents_ * agents_;
    std::vector<float> eras(chunk_runs_ * per_run, 0.0f);
    std::copy(b.era_alignment.begin(), b.era_alignment.end(), eras.begin());
    const auto bytes = shuffle_deflate(eras.data(), eras.size() * 4, 4, 1);
    put_chunk(out, ChunkedDataset::EraAlignment, {b.first, 0, 0, 0}, bytes.data(), bytes.size());
  }
  if (alignment_chunks) {
    const std::size_t per_run = static_cast<std::size_t>(months_) * agents_ * agents_;
    for (int r = 0; r < b.stored; ++r) {
      const std::vector<std::uint64_t> offset{b.first + static_cast<std::uint64_t>(r), 0, 0, 0};
      const float* w = &b.alignment[static_cast<std::size_t>(r) * per_run];
      if (deflate_ > 0) {
        const auto bytes = shuffle_deflate(w, per_run * 4, 4, deflate_);
        put_chunk(out, ChunkedDataset::Alignment, offset, bytes.data(), bytes.size());
      } else {
        put_chunk(out, ChunkedDataset::Alignment, offset, w, per_run * 4);
      }
    }
  }
  return out;
}

PackedBlock BlockPacker::unpack(const unsigned char* data, std::size_t size) {
  Reader in(data, size);
  if (in.word() != kTag) throw std::runtime_error("not a packed block");
  PackedBlock p;
  p.first = in.word();
  p.count = static_cast<int>(in.word());
  p.stored = static_cast<int>(in.word());
  const std::uint64_t chunks = in.word();
  if (chunks > size / 8) throw std::runtime_error("a packed block is truncated");
  for (std::uint64_t k = 0; k < chunks; ++k) {
    PackedChunk c;
    const std::uint64_t dataset = in.word();
    if (dataset > static_cast<std::uint64_t>(ChunkedDataset::Alignment)) throw std::runtime_error("a packed block names no dataset");
    c.dataset = static_cast<ChunkedDataset>(dataset);
    const std::uint64_t dims = in.word();
    if (dims > 8) throw std::runtime_error("a packed chunk has too many dimensions");
    for (std::uint64_t d = 0; d < dims; ++d) c.offset.push_back(in.word());
    c.size = in.word();
    c.data = in.bytes(c.size);
    p.chunks.push_back(std::move(c));
  }
  if (!in.done()) throw std::runtime_error("a packed block has bytes after its chunks");
  return p;
}

}  // namespace alignsim
