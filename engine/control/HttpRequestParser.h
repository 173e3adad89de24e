// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QString>

namespace greygate {

// The request head of one HTTP/1.x request, read from hostile bytes for the metrics port:
// the request line and the headers, at most kMaxHeadBytes together, nothing after them
// (the server answers one request and closes). Fed in pieces as they arrive; the outcome is
// the same however the bytes are split.
//
// Refused (errorStatus()): a head over the limit (431); a request line that is not
// "METHOD SP /target SP HTTP/1.0|1.1" (400; another version 505); a header line without a
// token name and ':' , with control bytes, or folded (400); more than kMaxHeaders headers
// (431); a body announced (Content-Length other than 0, or Transfer-Encoding: 400, as a GET
// has none); HTTP/1.1 without exactly one Host (400). The method is only checked for form:
// the server answers 405 to anything but GET.
class HttpRequestParser
{
public:
    static constexpr qsizetype kMaxHeadBytes = 8 * 1024;
    static constexpr int kMaxHeaders = 64;
    static constexpr qsizetype kMaxMethodBytes = 16;

    enum class Status
    {
        NeedMore,
        Complete,
        Error,
    };

    // Takes more bytes; once Complete or Error, further bytes are ignored.
    Status feed(QByteArrayView bytes);
    Status status() const { return m_status; }

    const QByteArray &method() const { return m_method; }
    const QByteArray &target() const { return m_target; } // as sent, with any query
    QByteArray path() const;                              // the target without its query
    const QByteArray &version() const { return m_version; }
    int errorStatus() const { return m_errorStatus; }
    const QString &errorString() const { return m_error; }

private:
    Status fail(int status, const char *why);
    Status parseHead(QByteArrayView head);
    bool parseRequestLine(QByteArrayView line);
    bool parseHeader(QByteArrayView line, int *hosts);

    QByteArray m_buffer;
    Status m_status = Status::NeedMore;
    QByteArray m_method;
    QByteArray m_target;
    QByteArray m_version;
    int m_errorStatus = 0;
    QString m_error;
};

} // namespace greygate
