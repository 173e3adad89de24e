// SPDX-License-Identifier: GPL-3.0-or-later
// The SMTP proxy's command framing and parser on hostile bytes. Properties: feeding the
// input whole, one byte at a time or in odd pieces gives the same lines and statuses; a
// line handed out is at most 510 bytes and holds no CR, LF or NUL; the buffer the caller
// keeps never reaches 512 bytes; every parsed command either is valid or carries an error
// reply with a 5xx code and an enhanced status; a valid MAIL/RCPT address holds no control
// byte and fits the path limit; a formatted reply is CRLF-framed lines only.
#include "FuzzCheck.h"
#include "SmtpWireCheck.h"
#include "smtp/SmtpCommandParser.h"

#include <QList>
#include <cstdint>

using namespace greygate;

namespace {

struct Outcome
{
    QList<int> statuses;
    QList<QByteArray> lines;
    friend bool operator==(const Outcome &, const Outcome &) = default;
};

void checkReply(const SmtpReply &reply, bool enhanced)
{
    fuzz::checkReplyWire(reply.format(enhanced));
}

void checkCommand(const QByteArray &line)
{
    const SmtpCommand cmd = SmtpCommandParser::parse(line);
    if (!cmd.ok()) {
        FUZZ_CHECK(cmd.error.code >= 500 && cmd.error.code < 600);
        FUZZ_CHECK(!cmd.error.status.isEmpty() && cmd.error.status[0] == '5');
        checkReply(cmd.error, true);
        return;
    }
    if (cmd.verb == SmtpCommand::Verb::Mail || cmd.verb == SmtpCommand::Verb::Rcpt) {
        FUZZ_CHECK(cmd.address.size() <= SmtpCommandParser::kMaxPath);
        for (const char c : cmd.address)
            FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
        FUZZ_CHECK(cmd.verb == SmtpCommand::Verb::Mail || !cmd.address.isEmpty());
    }
    // The address echoed in a reply cannot break the reply's framing.
    checkReply(SmtpReply::make(250, "2.1.0", cmd.argument), true);
}

Outcome frame(QByteArrayView input, qsizetype chunk, bool normalise)
{
    SmtpCommandParser parser(normalise);
    Outcome out;
    QByteArray buffer;
    for (qsizetype at = 0; at < input.size(); at += chunk) {
        buffer.append(input.sliced(at, qMin(chunk, input.size() - at)));
        for (int guard = 0; guard <= input.size() + 1; ++guard) {
            qsizetype used = 0;
            QByteArray line;
            const auto status = parser.takeLine(buffer, &used, &line);
            FUZZ_CHECK(used >= 0 && used <= buffer.size());
            buffer.remove(0, used);
            if (status == SmtpCommandParser::LineStatus::NeedMore)
                break;
            out.statuses.append(int(status));
            if (status == SmtpCommandParser::LineStatus::Line) {
                FUZZ_CHECK(line.size() <= SmtpCommandParser::kMaxLine - 2);
                FUZZ_CHECK(!line.contains('\r') && !line.contains('\n') && !line.contains('\0'));
                out.lines.append(line);
            }
        }
        FUZZ_CHECK(buffer.size() < SmtpCommandParser::kMaxLine);
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    const QByteArrayView input(reinterpret_cast<const char *>(data), qsizetype(size));
    for (const bool normalise : {false, true}) {
        const Outcome whole = frame(input, qMax<qsizetype>(input.size(), 1), normalise);
        FUZZ_CHECK(frame(input, 1, normalise) == whole);
        FUZZ_CHECK(frame(input, 7, normalise) == whole);
        for (const QByteArray &line : whole.lines)
            checkCommand(line);
    }
    return 0;
}
