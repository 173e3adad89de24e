// SPDX-License-Identifier: GPL-3.0-or-later
// The backend's replies as the SMTP proxy reads them (SmtpReplyParser): the backend is
// network input too. Properties: the input whole, one byte at a time or in odd pieces gives
// the same replies and the same final status; the buffer the caller keeps stays bounded;
// a reply has a code 200-599, at most 100 lines, an enhanced status of the code's class or
// none; relaying it (SmtpReply::format) gives CRLF-framed lines with no CR, LF or NUL
// inside, and reading that back gives the same code.
#include "FuzzCheck.h"
#include "SmtpWireCheck.h"
#include "smtp/SmtpReplyParser.h"

#include <QList>
#include <cstdint>

using namespace greygate;

namespace {

struct Outcome
{
    QList<int> codes;
    QList<QByteArray> texts;
    QList<QByteArray> statuses;
    QList<qsizetype> lineCounts;
    bool error = false;
    friend bool operator==(const Outcome &, const Outcome &) = default;
};

void checkReply(const SmtpReply &reply, const QList<QByteArray> &lines)
{
    FUZZ_CHECK(reply.code >= 200 && reply.code <= 599);
    FUZZ_CHECK(!lines.isEmpty() && lines.size() <= SmtpReplyParser::kMaxLines);
    if (!reply.status.isEmpty())
        FUZZ_CHECK(reply.status[0] == char('0' + reply.code / 100));
    for (const bool enhanced : {false, true}) {
        QByteArray wire = reply.format(enhanced);
        fuzz::checkReplyWire(wire);
        // A relayed reply must read back as one reply (over-long texts aside).
        if (wire.size() < SmtpReplyParser::kMaxLine) {
            SmtpReplyParser reparser;
            SmtpReply back;
            QList<QByteArray> backLines;
            FUZZ_CHECK(reparser.take(&wire, &back, &backLines) == SmtpReplyParser::Status::Reply);
            FUZZ_CHECK(back.code == reply.code && wire.isEmpty());
        }
    }
}

Outcome feed(QByteArrayView input, qsizetype chunk)
{
    Outcome out;
    SmtpReplyParser parser;
    QByteArray buffer;
    qsizetype pos = 0;
    while (pos < input.size() && !out.error) {
        const qsizetype n = std::min(chunk, input.size() - pos);
        buffer.append(input.sliced(pos, n));
        pos += n;
        for (;;) {
            SmtpReply reply;
            QList<QByteArray> lines;
            const SmtpReplyParser::Status status = parser.take(&buffer, &reply, &lines);
            if (status == SmtpReplyParser::Status::Error) {
                out.error = true;
                break;
            }
            // Between replies only an unfinished line is kept, and it is bounded.
            FUZZ_CHECK(!buffer.contains('\n') || status == SmtpReplyParser::Status::Reply);
            if (status == SmtpReplyParser::Status::NeedMore) {
                FUZZ_CHECK(buffer.size() <= SmtpReplyParser::kMaxLine + 1);
                break;
            }
            checkReply(reply, lines);
            out.codes.append(reply.code);
            out.texts.append(reply.text);
            out.statuses.append(reply.status);
            out.lineCounts.append(lines.size());
        }
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    const QByteArrayView input(reinterpret_cast<const char *>(data), qsizetype(size));
    const Outcome whole = feed(input, input.size() + 1);
    FUZZ_CHECK(feed(input, 1) == whole);
    FUZZ_CHECK(feed(input, 7) == whole);
    return 0;
}
