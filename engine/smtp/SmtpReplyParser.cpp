// SPDX-License-Identifier: GPL-3.0-or-later
#include "SmtpReplyParser.h"

#include "DropFront.h"

namespace greygate {

namespace {

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

// "4.7.1" at the start of text, followed by a space or the end.
qsizetype statusLength(QByteArrayView text)
{
    if (text.size() < 5 || !(text[0] == '2' || text[0] == '4' || text[0] == '5') || text[1] != '.')
        return 0;
    qsizetype i = 2;
    int digits = 0;
    while (i < text.size() && isDigit(text[i]) && digits < 3)
        ++i, ++digits;
    if (digits == 0 || i >= text.size() || text[i] != '.')
        return 0;
    ++i;
    digits = 0;
    while (i < text.size() && isDigit(text[i]) && digits < 3)
        ++i, ++digits;
    if (digits == 0 || (i < text.size() && text[i] != ' '))
        return 0;
    return i;
}

// The statuses and texts of nearly every reply to MAIL, RCPT, DATA and the dot (Postfix,
// smtp-sink, most MTAs), as static data: a reply parsed per command made two allocations.
QByteArray fromBuffer(QByteArrayView v)
{
    static const QByteArray known[] = {
        QByteArrayLiteral("2.0.0"),
        QByteArrayLiteral("2.1.0"),
        QByteArrayLiteral("2.1.5"),
        QByteArrayLiteral("Ok"),
        QByteArrayLiteral("End data with <CR><LF>.<CR><LF>"),
    };
    for (const QByteArray &k : known) {
        if (k.size() == v.size() && k == v)
            return k;
    }
    return v.toByteArray();
}

} // namespace

SmtpReplyParser::Status SmtpReplyParser::take(QByteArray *buffer, SmtpReply *reply,
                                              QList<QByteArray> *lines)
{
    qsizetype pos = 0;
    for (;;) {
        const qsizetype lf = buffer->indexOf('\n', pos);
        if (lf < 0) {
            dropFront(*buffer, pos);
            // The unfinished line may still end in its CR: a line of kMaxLine bytes whose
            // CRLF is split across reads is as good as one read whole.
            return buffer->size() > kMaxLine + 1 ? Status::Error : Status::NeedMore;
        }
        QByteArrayView line = QByteArrayView(*buffer).sliced(pos, lf - pos);
        pos = lf + 1;
        if (line.endsWith('\r'))
            line.chop(1);
        if (line.size() > kMaxLine || line.size() < 3 || !isDigit(line[0]) || !isDigit(line[1]) ||
            !isDigit(line[2]) || line[0] < '2' || line[0] > '5' ||
            (line.size() > 3 && line[3] != ' ' && line[3] != '-'))
            return Status::Error;
        const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
        if (!m_lines.isEmpty() && code != m_code)
            return Status::Error;
        m_code = code;
        if (m_lines.isEmpty() && (line.size() <= 3 || line[3] == ' ')) {
            // One line, nearly every reply: made straight from the buffer, as below.
            const QByteArrayView t = line.size() > 4 ? line.sliced(4) : QByteArrayView();
            SmtpReply r;
            r.code = code;
            const qsizetype st = statusLength(t);
            if (st > 0 && t[0] == char('0' + code / 100)) {
                r.status = fromBuffer(t.first(st));
                r.text = fromBuffer(t.sliced(st).trimmed());
            } else {
                r.text = fromBuffer(t);
            }
            if (lines)
                *lines = QList<QByteArray>{t.toByteArray()};
            dropFront(*buffer, pos);
            m_code = 0;
            *reply = std::move(r);
            return Status::Reply;
        }
        m_lines.append(line.size() > 4 ? line.sliced(4).toByteArray() : QByteArray());
        if (m_lines.size() > kMaxLines)
            return Status::Error;
        if (line.size() > 3 && line[3] == '-')
            continue;
        dropFront(*buffer, pos);
        SmtpReply r;
        r.code = code;
        const qsizetype st = statusLength(m_lines.first());
        if (st > 0 && m_lines.first()[0] == char('0' + code / 100))
            r.status = m_lines.first().first(st);
        QByteArray text;
        for (qsizetype i = 0; i < m_lines.size(); ++i) {
            QByteArrayView t = m_lines[i];
            if (!r.status.isEmpty() && t.startsWith(r.status))
                t = t.sliced(r.status.size()).trimmed();
            if (i > 0)
                text.append('\n');
            text.append(t);
        }
        r.text = std::move(text);
        *reply = std::move(r);
        if (lines)
            *lines = std::move(m_lines);
        m_lines.clear();
        m_code = 0;
        return Status::Reply;
    }
}

} // namespace greygate
