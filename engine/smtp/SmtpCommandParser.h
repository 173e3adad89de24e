// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "SmtpCommand.h"

#include <QByteArray>
#include <QByteArrayView>

namespace greygate {

// Command-line framing and parsing (RFC 5321 §4.1, §4.5.3.1.4). Lines end with CRLF; a line
// is at most 512 bytes with its CRLF. Framing is incremental: takeLine() consumes from the
// session's input and tells what it found, keeping only the state between calls (a CR at the
// end of a chunk, a too long line being skipped), never the bytes, so memory stays bounded
// by the session's input buffer.
class SmtpCommandParser
{
public:
    static constexpr qsizetype kMaxLine = 512; // with the CRLF
    static constexpr qsizetype kMaxPath = 256; // RFC 5321 §4.5.3.1.3, with the brackets

    enum class LineStatus : quint8
    {
        NeedMore, // no complete line yet; everything given was consumed or must wait
        Line,     // *line holds a command line without its end
        TooLong,  // a line over 512 bytes was skipped up to its end (answer 500 5.5.2)
        BareLf,   // refuse mode: a line ended with a bare LF (answer 500 5.5.2)
        BadByte,  // a bare CR or a NUL in the line (answer 500 5.5.2)
    };

    // normaliseBareLf: a bare LF ends a line as CRLF would (--smtp-bare-lf=normalise).
    explicit SmtpCommandParser(bool normaliseBareLf = false)
        : m_normaliseBareLf(normaliseBareLf)
    {}

    // Looks for one line in `input`; *consumed tells how many bytes of it were used (the
    // caller drops them). With NeedMore, bytes of an unfinished line are left unconsumed
    // unless the line is already too long (then they are skipped).
    LineStatus takeLine(QByteArrayView input, qsizetype *consumed, QByteArray *line);
    // The same, *line a view into `input` (valid while `input` is): no copy per command.
    LineStatus takeLine(QByteArrayView input, qsizetype *consumed, QByteArrayView *line);

    // Forget the framing state (after STARTTLS, or when DATA takes over the input).
    void reset()
    {
        m_skipping = false;
        m_badByte = false;
    }

    // Parses one command line (without its CRLF).
    static SmtpCommand parse(QByteArrayView line);

private:
    bool m_normaliseBareLf = false;
    bool m_skipping = false; // inside a too long line, up to its end
    bool m_badByte = false;  // the line being skipped held a bare CR or NUL, not too long
};

} // namespace greygate
