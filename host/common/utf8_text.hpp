// Text that callers send is checked once at the door and made harmless wherever it is echoed. PostgreSQL's
// text and jsonb cannot hold a NUL character (text is cut at it, jsonb refuses "\u0000"), and a UTF-8 database
// refuses ill-formed UTF-8: such text is refused in requests (text_fault), replaced in what must be stored
// whatever it holds (storable_text, for the audit log) and escaped in log lines (escape_for_log), so a caller
// can neither break a write nor forge a log line.
//
// Header-only and dependency-free: the API's request parsing (compiled alone by the fuzzer), the audit writer
// and the daemon's log formatter share it. Pure functions: safe from any thread.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::host {

// The character at text[pos]: its code point and the length of its well-formed UTF-8 sequence (1–4), or length
// 0 when the sequence is ill-formed (a stray continuation byte, a truncated sequence, an overlong form, a
// surrogate or a code point past U+10FFFF).
struct Utf8Char {
  std::size_t length = 0;
  std::uint32_t code = 0;
};

inline Utf8Char utf8_char_at(std::string_view text, std::size_t pos) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(pos);
  if (lead < 0x80) return {1, lead};
  std::size_t length = 0;
  std::uint32_t code = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    code = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    code = lead & 0x0F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    code = lead & 0x07;
  } else {
    return {};  // 0x80–0xC1 (continuation or overlong lead) and 0xF5–0xFF never start a character
  }
  if (pos + length > text.size()) return {};
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(pos + i) & 0xC0) != 0x80) return {};
    code = (code << 6) | (byte(pos + i) & 0x3F);
  }
  if ((length == 3 && code < 0x800) || (length == 4 && (code < 0x10000 || code > 0x10FFFF))) return {};
  if (code >= 0xD800 && code <= 0xDFFF) return {};
  return {length, code};
}

// The length of the well-formed UTF-8 sequence at text[pos] (1–4), or 0 when it is ill-formed.
inline std::size_t utf8_sequence_length(std::string_view text, std::size_t pos) {
  return utf8_char_at(text, pos).length;
}

inline bool is_valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_sequence_length(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// Why PostgreSQL could not store `text` faithfully, as the end of a sentence about a field ("contains a NUL
// character …"), or nullopt when it can. Never repeats the text.
inline std::optional<std::string> text_fault(std::string_view text) {
  if (text.find('\0') != std::string_view::npos)
    return std::string("contains a NUL character (\\u0000), which gatehouse does not accept in any text");
  if (!is_valid_utf8(text)) return std::string("is not valid UTF-8");
  return std::nullopt;
}

// Why `text` cannot be a name or an identity (a subject, an id), or nullopt when it can: control characters
// (C0, DEL, C1) and the invisible format characters that reorder or hide text — bidirectional overrides and
// isolates (U+202A–U+202E, U+2066–U+2069), marks (U+200E, U+200F, U+061C), zero-width characters
// (U+200B–U+200D, U+2060–U+2064) and the byte order mark (U+FEFF). No identity holds them, and they would only
// serve to disguise one in a listing or a log ("alice" + U+202E …). Assumes text_fault(text) passed.
inline std::optional<std::string> name_fault(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto [length, decoded] = utf8_char_at(text, i);
    // An ill-formed byte (text_fault refuses it first) is judged as itself and stepped over.
    const std::uint32_t code = length ? decoded : static_cast<unsigned char>(text[i]);
    if (code < 0x20 || code == 0x7F || (code >= 0x80 && code <= 0x9F))
      return std::string("contains a control character");
    const bool invisible = code == 0x061C || (code >= 0x200B && code <= 0x200F) ||
                           (code >= 0x202A && code <= 0x202E) || (code >= 0x2060 && code <= 0x2064) ||
                           (code >= 0x2066 && code <= 0x2069) || code == 0xFEFF;
    if (invisible) {
      static constexpr char kHex[] = "0123456789ABCDEF";
      std::string u = "U+";
      for (int shift = 12; shift >= 0; shift -= 4) u += kHex[(code >> shift) & 15];
      return "contains the invisible formatting character " + u + ", which would disguise the name";
    }
    i += std::max<std::size_t>(length, 1);
  }
  return std::nullopt;
}

// A copy PostgreSQL can store: each NUL and each ill-formed byte becomes U+FFFD (the replacement character).
inline std::string storable_text(std::string_view text) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = text[i] == '\0' ? 0 : utf8_sequence_length(text, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

// A copy safe to write as (part of) one log line: C0 controls, DEL and C1 controls (U+0080–U+009F, which some
// terminals obey) are written as \n, \r, \t or \xNN / \u00NN, and each ill-formed UTF-8 byte as \xNN. A caller's
// text can then neither end the line nor move the cursor, and a NUL never reaches the log file.
inline std::string escape_for_log(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  auto hex_byte = [&](unsigned char c) {
    out += "\\x";
    out += kHex[c >> 4];
    out += kHex[c & 15];
  };
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (c == '\n') out += "\\n";
      else if (c == '\r') out += "\\r";
      else if (c == '\t') out += "\\t";
      else if (c < 0x20 || c == 0x7F) hex_byte(c);
      else out += static_cast<char>(c);
      ++i;
      continue;
    }
    const std::size_t n = utf8_sequence_length(text, i);
    if (n == 0) {
      hex_byte(c);
      ++i;
      continue;
    }
    if (n == 2 && c == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0) {  // U+0080–U+009F
      out += "\\u00";
      out += kHex[static_cast<unsigned char>(text[i + 1]) >> 4];
      out += kHex[static_cast<unsigned char>(text[i + 1]) & 15];
    } else {
      out.append(text.substr(i, n));
    }
    i += n;
  }
  return out;
}

// True when escape_for_log would change nothing (the common case: logging can skip the copy).
inline bool log_safe(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7F) return false;
      ++i;
      continue;
    }
    const std::size_t n = utf8_sequence_length(text, i);
    if (n == 0 || (n == 2 && c == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0)) return false;
    i += n;
  }
  return true;
}

}  // namespace gatehouse::host
