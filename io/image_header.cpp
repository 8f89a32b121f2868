// JPEG marker and PNG chunk walks: enough structure to refuse a file before decoding it (too many pixels,
// data cut short), none of the pixel data.
#include "io/image_header.hpp"

#include <cstring>

namespace pixab {

namespace {

std::uint32_t big_endian16(const unsigned char* p) { return (std::uint32_t{p[0]} << 8) | p[1]; }

std::uint32_t big_endian32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

bool is_jpeg_frame_marker(unsigned char marker) {
  // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range.
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

bool is_jpeg_standalone_marker(unsigned char marker) {
  return marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7);  // TEM, RST0..RST7: no length field
}

// The end of the entropy-coded data that starts at `pos`: the position of the next marker, or `size` when
// the data runs out first. Inside it, FF 00 is a stuffed FF and FF D0..D7 are restart markers.
std::size_t end_of_scan(const unsigned char* data, std::size_t size, std::size_t pos) {
  while (pos < size) {
    const void* found = std::memchr(data + pos, 0xFF, size - pos);
    if (!found) return size;
    pos = static_cast<std::size_t>(static_cast<const unsigned char*>(found) - data);
    if (pos + 1 >= size) return size;
    const unsigned char next = data[pos + 1];
    if (next == 0x00 || (next >= 0xD0 && next <= 0xD7)) {
      pos += 2;
    } else if (next == 0xFF) {
      pos += 1;  // fill byte before a marker
    } else {
      return pos;
    }
  }
  return size;
}

// Walks the markers from SOI to EOI. libjpeg (and so OpenCV) decodes a file cut short without an error,
// filling the missing rows with grey, so the only reliable sign of truncation is a missing EOI.
ImageHeader inspect_jpeg(const unsigned char* data, std::size_t size) {
  ImageHeader header;
  header.format = ImageFormat::kJpeg;
  std::size_t pos = 2;  // after SOI
  while (true) {
    // libjpeg skips stray bytes before a marker (with a warning); so does this walk.
    const void* found = pos < size ? std::memchr(data + pos, 0xFF, size - pos) : nullptr;
    if (!found) {
      header.truncated = true;
      return header;
    }
    pos = static_cast<std::size_t>(static_cast<const unsigned char*>(found) - data);
    while (pos < size && data[pos] == 0xFF) ++pos;  // fill bytes
    if (pos >= size) {
      header.truncated = true;
      return header;
    }
    const unsigned char marker = data[pos++];
    if (marker == 0xD9) return header;  // EOI
    if (is_jpeg_standalone_marker(marker) || marker == 0xD8) continue;
    if (pos + 2 > size) {
      header.truncated = true;
      return header;
    }
    const std::size_t length = big_endian16(data + pos);
    if (length < 2) return header;  // not a marker segment: the decoder will say what is wrong
    if (pos + length > size) {
      header.truncated = true;
      return header;
    }
    if (is_jpeg_frame_marker(marker) && header.width == 0 && length >= 8) {
      header.bit_depth = data[pos + 2];
      header.height = big_endian16(data + pos + 3);
      header.width = big_endian16(data + pos + 5);
      header.components = data[pos + 7];
    }
    pos += length;
    if (marker == 0xDA) {  // SOS: the scan's entropy-coded data follows the header
      pos = end_of_scan(data, size, pos);
      if (pos >= size) {
        header.truncated = true;
        return header;
      }
    }
  }
}

int png_channels(int colour_type) {
  switch (colour_type) {
    case 0:  // greyscale
    case 3:  // palette (decoded to colour, but one sample per pixel on disk)
      return 1;
    case 2:
      return 3;
    case 4:
      return 2;  // greyscale + alpha
    case 6:
      return 4;
    default:
      return 0;
  }
}

// Walks the chunks from IHDR to IEND.
ImageHeader inspect_png(const unsigned char* data, std::size_t size) {
  ImageHeader header;
  header.format = ImageFormat::kPng;
  std::size_t pos = 8;  // after the signature
  bool first = true;
  while (true) {
    if (pos + 8 > size) {
      header.truncated = true;
      return header;
    }
    const std::uint32_t length = big_endian32(data + pos);
    const unsigned char* type = data + pos + 4;
    if (length > 0x7FFFFFFFu) return header;  // over PNG's own limit: the decoder will refuse it
    if (first && std::memcmp(type, "IHDR", 4) == 0 && length >= 13 && pos + 8 + 13 <= size) {
      const unsigned char* ihdr = data + pos + 8;
      header.width = big_endian32(ihdr);
      header.height = big_endian32(ihdr + 4);
      header.bit_depth = ihdr[8];
      header.components = png_channels(ihdr[9]);
    }
    first = false;
    const std::size_t chunk_end = pos + 12 + std::size_t{length};  // length, type, data, CRC
    if (chunk_end > size) {
      header.truncated = true;
      return header;
    }
    if (std::memcmp(type, "IEND", 4) == 0) return header;
    pos = chunk_end;
  }
}

}  // namespace

ImageHeader inspect_image_header(const unsigned char* data, std::size_t size) {
  static const unsigned char kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return inspect_jpeg(data, size);
  if (size >= 8 && std::memcmp(data, kPngSignature, 8) == 0) return inspect_png(data, size);
  return ImageHeader{};
}

}  // namespace pixab
