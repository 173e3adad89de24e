// SPDX-License-Identifier: GPL-3.0-or-later
#include "HttpRequestParser.h"

namespace greygate {

namespace {

// RFC 9110 tchar: what a method and a header name may hold.
bool isTokenChar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

bool isToken(QByteArrayView s)
{
    if (s.isEmpty())
        return false;
    for (char c : s) {
        if (!isTokenChar(c))
            return false;
    }
    return true;
}

// A field value: visible ASCII, obs-text and blanks; no other control byte.
bool isFieldValue(QByteArrayView s)
{
    for (char c : s) {
        const auto u = uchar(c);
        if ((u < 0x20 && u != '\t') || u == 0x7f)
            return false;
    }
    return true;
}

QByteArrayView trimmed(QByteArrayView s)
{
    while (!s.isEmpty() && (s.front() == ' ' || s.front() == '\t'))
        s = s.sliced(1);
    while (!s.isEmpty() && (s.back() == ' ' || s.back() == '\t'))
        s.chop(1);
    return s;
}

} // namespace

HttpRequestParser::Status HttpRequestParser::feed(QByteArrayView bytes)
{
    if (m_status != Status::NeedMore)
        return m_status;
    // Only what can still belong to the head is kept, so memory stays bounded whatever
    // arrives; the end is looked for from just before the new bytes.
    const qsizetype from = std::max<qsizetype>(0, m_buffer.size() - 3);
    m_buffer.append(bytes.first(std::min(bytes.size(), kMaxHeadBytes + 4 - m_buffer.size())));
    qsizetype end = -1;
    for (qsizetype i = from; i < m_buffer.size(); ++i) {
        if (m_buffer[i] != '\n')
            continue;
        // "\n\n" or "\n\r\n": an empty line ends the head (a bare LF is accepted as a line end).
        if (i + 1 < m_buffer.size() && m_buffer[i + 1] == '\n') {
            end = i + 1;
            break;
        }
        if (i + 2 < m_buffer.size() && m_buffer[i + 1] == '\r' && m_buffer[i + 2] == '\n') {
            end = i + 1;
            break;
        }
    }
    if (end < 0) {
        if (m_buffer.size() > kMaxHeadBytes)
            return fail(431, "request head over 8 KiB");
        return m_status;
    }
    if (end > kMaxHeadBytes)
        return fail(431, "request head over 8 KiB");
    const QByteArray head = m_buffer.first(end);
    m_buffer.clear();
    m_buffer.squeeze();
    return parseHead(head);
}

QByteArray HttpRequestParser::path() const
{
    const qsizetype query = m_target.indexOf('?');
    return query < 0 ? m_target : m_target.first(query);
}

HttpRequestParser::Status HttpRequestParser::fail(int status, const char *why)
{
    m_status = Status::Error;
    m_errorStatus = status;
    m_error = QString::fromLatin1(why);
    m_buffer.clear();
    m_buffer.squeeze();
    return m_status;
}

HttpRequestParser::Status HttpRequestParser::parseHead(QByteArrayView head)
{
    int lineNumber = 0;
    int hosts = 0;
    while (!head.isEmpty()) {
        const qsizetype nl = head.indexOf('\n');
        QByteArrayView line = nl < 0 ? head : head.first(nl);
        head = nl < 0 ? QByteArrayView() : head.sliced(nl + 1);
        if (line.endsWith('\r'))
            line.chop(1);
        if (lineNumber++ == 0) {
            if (!parseRequestLine(line))
                return m_status;
            continue;
        }
        if (lineNumber - 1 > kMaxHeaders)
            return fail(431, "too many header lines");
        if (!parseHeader(line, &hosts))
            return m_status;
    }
    if (lineNumber == 0)
        return fail(400, "empty request");
    if (m_version == "HTTP/1.1" && hosts != 1)
        return fail(400, "HTTP/1.1 needs exactly one Host header");
    if (hosts > 1)
        return fail(400, "more than one Host header");
    m_status = Status::Complete;
    return m_status;
}

bool HttpRequestParser::parseRequestLine(QByteArrayView line)
{
    const qsizetype sp1 = line.indexOf(' ');
    const qsizetype sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
    if (sp1 < 0 || sp2 < 0 || line.indexOf(' ', sp2 + 1) >= 0) {
        fail(400, "the request line is not METHOD TARGET VERSION");
        return false;
    }
    const QByteArrayView method = line.first(sp1);
    const QByteArrayView target = line.sliced(sp1 + 1, sp2 - sp1 - 1);
    const QByteArrayView version = line.sliced(sp2 + 1);
    if (!isToken(method) || method.size() > kMaxMethodBytes) {
        fail(400, "malformed method");
        return false;
    }
    if (!target.startsWith('/')) {
        fail(400, "the target must be an absolute path");
        return false;
    }
    for (char c : target) {
        if (uchar(c) <= 0x20 || uchar(c) >= 0x7f) {
            fail(400, "control or non-ASCII byte in the target");
            return false;
        }
    }
    if (!version.startsWith("HTTP/")) {
        fail(400, "malformed version");
        return false;
    }
    if (version != "HTTP/1.1" && version != "HTTP/1.0") {
        fail(505, "only HTTP/1.0 and HTTP/1.1");
        return false;
    }
    m_method = method.toByteArray();
    m_target = target.toByteArray();
    m_version = version.toByteArray();
    return true;
}

bool HttpRequestParser::parseHeader(QByteArrayView line, int *hosts)
{
    if (line.startsWith(' ') || line.startsWith('\t')) {
        fail(400, "folded header line");
        return false;
    }
    const qsizetype colon = line.indexOf(':');
    if (colon <= 0 || !isToken(line.first(colon))) {
        fail(400, "malformed header line");
        return false;
    }
    const QByteArrayView name = line.first(colon);
    const QByteArrayView value = trimmed(line.sliced(colon + 1));
    if (!isFieldValue(value)) {
        fail(400, "control byte in a header value");
        return false;
    }
    if (name.compare("Host", Qt::CaseInsensitive) == 0) {
        ++*hosts;
    } else if (name.compare("Content-Length", Qt::CaseInsensitive) == 0) {
        if (value != "0") {
            fail(400, "a request body is not accepted");
            return false;
        }
    } else if (name.compare("Transfer-Encoding", Qt::CaseInsensitive) == 0) {
        fail(400, "a request body is not accepted");
        return false;
    }
    return true;
}

} // namespace greygate
