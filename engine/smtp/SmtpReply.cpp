// SPDX-License-Identifier: GPL-3.0-or-later
#include "SmtpReply.h"

#include "util/ByteAppend.h"

namespace greygate {

namespace {

void appendSafe(QByteArray &out, QByteArrayView text)
{
    // Runs of safe bytes are appended whole: a reply's text rarely holds a control byte.
    qsizetype start = 0;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const auto u = static_cast<unsigned char>(text[i]);
        if (u >= 0x20 && u != 0x7f)
            continue;
        out.append(text.sliced(start, i - start)).append('?');
        start = i + 1;
    }
    out.append(text.sliced(start));
}

} // namespace

SmtpReply SmtpReply::make(int code, QByteArrayView status, QByteArrayView text)
{
    return SmtpReply{code, status.toByteArray(), text.toByteArray()};
}

void SmtpReply::formatTo(QByteArray &out, int code, QByteArrayView status, QByteArrayView text,
                         bool enhanced)
{
    const bool threeDigits = code >= 100 && code <= 999;
    const char digits[3] = {char('0' + code / 100 % 10), char('0' + code / 10 % 10),
                            char('0' + code % 10)};
    const QByteArray other = threeDigits ? QByteArray() : QByteArray::number(code);
    const QByteArrayView codeText = threeDigits ? QByteArrayView(digits, 3) : QByteArrayView(other);
    // Without a status of its own a reply gets one of its class: "X.0.0".
    char classStatus[5] = {char('0' + code / 100), '.', '0', '.', '0'};
    QByteArrayView st;
    if (enhanced) {
        const int cls = code / 100;
        if (!status.isEmpty())
            st = status;
        else if (cls == 2 || cls == 4 || cls == 5)
            st = QByteArrayView(classStatus, 5);
    }
    qsizetype start = 0;
    for (;;) {
        const qsizetype nl = text.indexOf('\n', start);
        const bool last = nl < 0;
        const QByteArrayView line = text.sliced(start, (last ? text.size() : nl) - start);
        // A reply line is short: made on the stack and appended once (a QByteArray append
        // per piece was ~900 instructions a reply, seven replies a message).
        char buffer[256];
        if (codeText.size() + st.size() + line.size() + 4 <= qsizetype(sizeof buffer)) {
            char *w = buffer;
            for (const char c : codeText)
                *w++ = c;
            *w++ = last ? ' ' : '-';
            if (!st.isEmpty()) {
                for (const char c : st)
                    *w++ = c;
                if (!line.isEmpty())
                    *w++ = ' ';
            }
            for (const char c : line) {
                const auto u = static_cast<unsigned char>(c);
                *w++ = u >= 0x20 && u != 0x7f ? c : '?';
            }
            *w++ = '\r';
            *w++ = '\n';
            appendBytes(out, {QByteArrayView(buffer, w - buffer)});
            if (last)
                break;
            start = nl + 1;
            continue;
        }
        out.append(codeText).append(last ? ' ' : '-');
        if (!st.isEmpty()) {
            out.append(st);
            if (!line.isEmpty())
                out.append(' ');
        }
        appendSafe(out, line);
        out.append("\r\n");
        if (last)
            break;
        start = nl + 1;
    }
}

QByteArray SmtpReply::format(bool enhanced) const
{
    QByteArray out;
    formatTo(out, code, status, text, enhanced);
    return out;
}

QByteArray SmtpReply::summary() const
{
    // Sized once (made per message for the log line and the event).
    const qsizetype nl = text.indexOf('\n');
    const QByteArrayView first = QByteArrayView(text).first(nl < 0 ? text.size() : nl);
    QByteArray out;
    out.reserve(12 + status.size() + first.size());
    if (code >= 100 && code <= 999) {
        const char digits[3] = {char('0' + code / 100), char('0' + code / 10 % 10),
                                char('0' + code % 10)};
        out.append(digits, 3);
    } else {
        out.append(QByteArray::number(code));
    }
    if (!status.isEmpty())
        out.append(' ').append(status);
    out.append(' ');
    appendSafe(out, first);
    return out;
}

} // namespace greygate
