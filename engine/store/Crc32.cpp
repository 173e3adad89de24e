// SPDX-License-Identifier: GPL-3.0-or-later
#include "Crc32.h"

#include <array>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define GREYGATE_CRC32_CLMUL 1
#endif

namespace greygate {

namespace {

// Slicing-by-4 tables: four bytes per step. The portable path, and the tail (under 16 bytes)
// and short inputs (under 64) of the carry-less multiply path.
using Tables = std::array<std::array<quint32, 256>, 4>;

constexpr Tables makeTables()
{
    Tables t{};
    for (quint32 i = 0; i < 256; ++i) {
        quint32 c = i;
        for (int k = 0; k < 8; ++k)
            c = (c & 1) ? (0xEDB88320u ^ (c >> 1)) : (c >> 1);
        t[0][i] = c;
    }
    for (quint32 i = 0; i < 256; ++i) {
        t[1][i] = (t[0][i] >> 8) ^ t[0][t[0][i] & 0xFF];
        t[2][i] = (t[1][i] >> 8) ^ t[0][t[1][i] & 0xFF];
        t[3][i] = (t[2][i] >> 8) ^ t[0][t[2][i] & 0xFF];
    }
    return t;
}

constexpr Tables kTables = makeTables();

// On the running (inverted) register, as both paths keep it.
quint32 tableUpdate(quint32 c, const uchar *p, qsizetype size)
{
    while (size >= 4) {
        c ^= quint32(p[0]) | (quint32(p[1]) << 8) | (quint32(p[2]) << 16) | (quint32(p[3]) << 24);
        c = kTables[3][c & 0xFF] ^ kTables[2][(c >> 8) & 0xFF] ^ kTables[1][(c >> 16) & 0xFF] ^
            kTables[0][c >> 24];
        p += 4;
        size -= 4;
    }
    while (size-- > 0)
        c = kTables[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    return c;
}

#ifdef GREYGATE_CRC32_CLMUL

// Folding with carry-less multiplication (Gopal et al., "Fast CRC Computation for Generic
// Polynomials Using PCLMULQDQ Instruction", Intel 2009), for the bit-reflected polynomial
// 0xEDB88320: four 128-bit lanes fold 64 bytes a step, then one lane 16 bytes a step, then a
// Barrett reduction to 32 bits. The journal's checksum runs on the decision thread at every
// group commit: this is about ten times fewer instructions than the tables, and no 4 KiB of
// tables to keep in cache beside a million triplets. The constants are x^k mod P(x),
// bit-reflected and shifted one left, for the k the paper gives per fold distance.
constexpr quint64 kFold512Lo = 0x154442bd4; // x^(4*128+32), x^(4*128-32)
constexpr quint64 kFold512Hi = 0x1c6e41596;
constexpr quint64 kFold128Lo = 0x1751997d0; // x^(128+32), x^(128-32)
constexpr quint64 kFold128Hi = 0x0ccaa009e;
constexpr quint64 kFold64 = 0x163cd6124;     // x^64
constexpr quint64 kPolynomial = 0x1db710641; // P(x), reflected
constexpr quint64 kBarrettMu = 0x1f7011641;  // floor(x^64 / P(x)), reflected

__attribute__((target("pclmul,sse4.1"))) inline __m128i fold(__m128i lanes, __m128i constants,
                                                             __m128i next)
{
    const __m128i low = _mm_clmulepi64_si128(lanes, constants, 0x00);
    const __m128i high = _mm_clmulepi64_si128(lanes, constants, 0x11);
    return _mm_xor_si128(_mm_xor_si128(low, high), next);
}

__attribute__((target("pclmul,sse4.1"))) inline __m128i load(const uchar *p)
{
    return _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
}

// size >= 64 and a multiple of 16; c is the running (inverted) register.
__attribute__((target("pclmul,sse4.1"))) quint32 clmulUpdate(quint32 c, const uchar *p,
                                                             qsizetype size)
{
    __m128i a = _mm_xor_si128(load(p), _mm_cvtsi32_si128(int(c)));
    __m128i b = load(p + 16);
    __m128i d = load(p + 32);
    __m128i e = load(p + 48);
    p += 64;
    size -= 64;

    const __m128i k512 = _mm_set_epi64x(qint64(kFold512Hi), qint64(kFold512Lo));
    for (; size >= 64; p += 64, size -= 64) {
        a = fold(a, k512, load(p));
        b = fold(b, k512, load(p + 16));
        d = fold(d, k512, load(p + 32));
        e = fold(e, k512, load(p + 48));
    }

    const __m128i k128 = _mm_set_epi64x(qint64(kFold128Hi), qint64(kFold128Lo));
    a = fold(a, k128, b);
    a = fold(a, k128, d);
    a = fold(a, k128, e);
    for (; size >= 16; p += 16, size -= 16)
        a = fold(a, k128, load(p));

    // 128 -> 64 bits: the low half times x^(128-32) onto the high half.
    const __m128i low32 = _mm_setr_epi32(-1, 0, -1, 0);
    a = _mm_xor_si128(_mm_srli_si128(a, 8), _mm_clmulepi64_si128(a, k128, 0x10));
    // 64 -> 32 bits (plus 32 for the reduction): the low word times x^64.
    const __m128i k64 = _mm_set_epi64x(0, qint64(kFold64));
    a = _mm_xor_si128(_mm_srli_si128(a, 4),
                      _mm_clmulepi64_si128(_mm_and_si128(a, low32), k64, 0x00));
    // Barrett: q = (low word * mu) mod x^32, then a ^= q * P.
    const __m128i pmu = _mm_set_epi64x(qint64(kBarrettMu), qint64(kPolynomial));
    __m128i q = _mm_clmulepi64_si128(_mm_and_si128(a, low32), pmu, 0x10);
    q = _mm_clmulepi64_si128(_mm_and_si128(q, low32), pmu, 0x00);
    return quint32(_mm_extract_epi32(_mm_xor_si128(a, q), 1));
}

bool hasClmul()
{
    static const bool has = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
    return has;
}

#endif

} // namespace

quint32 crc32Update(quint32 crc, const char *data, qsizetype size)
{
    const auto *p = reinterpret_cast<const uchar *>(data);
    quint32 c = ~crc;
#ifdef GREYGATE_CRC32_CLMUL
    if (size >= 64 && hasClmul()) {
        const qsizetype folded = size & ~qsizetype(15);
        c = clmulUpdate(c, p, folded);
        p += folded;
        size -= folded;
    }
#endif
    return ~tableUpdate(c, p, size);
}

quint32 crc32UpdatePortable(quint32 crc, const char *data, qsizetype size)
{
    return ~tableUpdate(~crc, reinterpret_cast<const uchar *>(data), size);
}

} // namespace greygate
