// SPDX-License-Identifier: GPL-3.0-or-later
// The SMTP proxy's DATA reader on hostile bytes: the smuggling defence. Properties, in both
// bare-LF modes: the same status, error, consumed count and content however the input is
// split; the message ends only right after "\r\n.\r\n" (or a leading ".\r\n") in the input;
// the content is canonical (CRLF line ends only, no NUL, lines within 998 bytes), so once
// re-stuffed it can never hold an end of data; refusing mode stops at the first bare CR, bare
// LF or NUL.
#include "FuzzCheck.h"
#include "smtp/DataReader.h"

#include <cstdint>

using namespace greygate;

namespace {

struct Outcome
{
    DataReader::Status status = DataReader::Status::NeedMore;
    DataReader::Error error = DataReader::Error::None;
    qsizetype consumed = 0;
    QByteArray content;
    friend bool operator==(const Outcome &, const Outcome &) = default;
};

Outcome read(QByteArrayView input, qsizetype chunk, bool normalise)
{
    DataReader reader(1 << 20, normalise);
    Outcome out;
    for (qsizetype at = 0; at < input.size(); at += chunk) {
        const QByteArrayView piece = input.sliced(at, qMin(chunk, input.size() - at));
        qsizetype used = 0;
        out.status = reader.feed(piece, &used, &out.content);
        FUZZ_CHECK(used >= 0 && used <= piece.size());
        out.consumed = at + used;
        if (out.status != DataReader::Status::NeedMore)
            break;
        FUZZ_CHECK(used == piece.size());
    }
    out.error = reader.error();
    return out;
}

void checkCanonical(const QByteArray &content)
{
    FUZZ_CHECK(!content.contains('\0'));
    qsizetype pos = 0;
    while (pos < content.size()) {
        const qsizetype lf = content.indexOf('\n', pos);
        FUZZ_CHECK(lf > pos && content[lf - 1] == '\r');
        const QByteArrayView line = QByteArrayView(content).sliced(pos, lf - 1 - pos);
        FUZZ_CHECK(!line.contains('\r'));
        FUZZ_CHECK(line.size() <= DataReader::kMaxLine - 2);
        pos = lf + 1;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256 * 1024)
        return 0;
    const QByteArrayView input(reinterpret_cast<const char *>(data), qsizetype(size));
    for (const bool normalise : {false, true}) {
        const Outcome whole = read(input, qMax<qsizetype>(input.size(), 1), normalise);
        FUZZ_CHECK(read(input, 1, normalise) == whole);
        FUZZ_CHECK(read(input, 5, normalise) == whole);
        checkCanonical(whole.content);
        if (whole.status == DataReader::Status::End) {
            const QByteArrayView head = input.first(whole.consumed);
            FUZZ_CHECK(head.endsWith("\r\n.\r\n") || head == ".\r\n");
        }
        if (whole.status == DataReader::Status::Fatal) {
            FUZZ_CHECK(whole.error == DataReader::Error::BareLf ||
                       whole.error == DataReader::Error::BareCr ||
                       whole.error == DataReader::Error::Nul);
            FUZZ_CHECK(normalise == false || whole.error == DataReader::Error::Nul);
        }
        if (!normalise && whole.status != DataReader::Status::Fatal) {
            // Refusing mode: what was read holds no bare CR, bare LF or NUL.
            const QByteArrayView read = input.first(whole.consumed);
            FUZZ_CHECK(!read.contains('\0'));
            for (qsizetype i = 0; i < read.size(); ++i) {
                if (read[i] == '\n')
                    FUZZ_CHECK(i > 0 && read[i - 1] == '\r');
                if (read[i] == '\r' && i + 1 < read.size())
                    FUZZ_CHECK(read[i + 1] == '\n');
            }
        }
    }
    return 0;
}
