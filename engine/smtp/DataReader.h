// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QByteArrayView>

namespace greygate {

// The DATA phase's framing (RFC 5321 §4.1.1.4, §4.5.2): only CRLF "." CRLF ends the
// message; lines are un-stuffed and handed on with CRLF ends, so the proxy re-stuffs what it
// sends and never splices the client's raw bytes into the backend's stream.
//
// A bare LF, a bare CR or a NUL is the material of SMTP smuggling (CVE-2023-51764/5/6):
// refused by default (the reader stops with a fatal error: the session answers and closes,
// as the message boundary can no longer be trusted). With normaliseBareLf a bare LF or CR
// ends a line like CRLF does, but a "." line only ends the message when both the line
// before it and the dot itself end with a real CRLF; a "." line that does not is content
// (re-stuffed later), so "\n.\n", "\r.\r", "\r\n.\n" and the like never end a message in
// either mode. NUL is refused in both modes: dropping it would turn "\r\n\0.\r\n" into a
// boundary.
class DataReader
{
public:
    static constexpr qsizetype kMaxLine = 1000; // with the CRLF (RFC 5321 §4.5.3.1.6)

    enum class Status : quint8
    {
        NeedMore, // all input consumed, the message goes on
        End,      // the final "." was read; *consumed stops right after it
        Fatal,    // bare LF/CR or NUL (refuse mode): the framing is lost
    };
    enum class Error : quint8
    {
        None,
        LineTooLong, // a line over 1000 bytes: the rest is read and discarded
        TooBig,      // over maxSize: the rest is read and discarded
        BareLf,
        BareCr,
        Nul,
    };

    explicit DataReader(qint64 maxSize = 0, bool normaliseBareLf = false);

    // Consumes `input` up to the end of the message; un-stuffed lines with CRLF ends are
    // appended to *out (nothing once a non-fatal error occurred: such a message is refused
    // at its end).
    Status feed(QByteArrayView input, qsizetype *consumed, QByteArray *out);

    Error error() const { return m_error; }
    // Content bytes read so far (un-stuffed, with CRLF ends), also past maxSize.
    qint64 size() const { return m_size; }
    void reset();
    // A new message, with this size limit (the line buffer's capacity is kept).
    void restart(qint64 maxSize);

private:
    bool endLine(bool strict, QByteArray *out); // true at the end of the message
    // The fast path from p[i] on, at a line's start: returns where it stopped, *end set
    // (and that position right after the final dot's CRLF) at the end of the message.
    qsizetype wholeLines(const char *p, qsizetype i, qsizetype n, QByteArray *out, bool *end);
    void fail(Error e);

    qint64 m_maxSize = 0; // 0: no limit
    bool m_normalise = false;
    QByteArray m_line; // the current line's bytes, without its end
    bool m_lineTooLong = false;
    bool m_pendingCr = false; // the last byte seen was a CR
    bool m_prevStrict = true; // the previous line ended with CRLF (true at the start)
    qint64 m_size = 0;
    Error m_error = Error::None;
};

} // namespace greygate
