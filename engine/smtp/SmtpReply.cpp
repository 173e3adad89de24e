// SPDX-License-Identifier: GPL-3.0-or-later
#include "SmtpReply.h"

namespace greygate {

namespace {

void appendSafe(QByteArray &out, QByteArrayView text)
{
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        out.append(u < 0x20 || u == 0x7f ? '?' : c);
    }
}

QByteArray statusFor(const SmtpReply &r)
{
    if (!r.status.isEmpty())
        return r.status;
    const int cls = r.code / 100;
    if (cls != 2 && cls != 4 && cls != 5)
        return {};
    QByteArray status = QByteArray::number(cls);
    return status.append(".0.0");
}

} // namespace

SmtpReply SmtpReply::make(int code, QByteArrayView status, QByteArrayView text)
{
    return SmtpReply{code, status.toByteArray(), text.toByteArray()};
}

QByteArray SmtpReply::format(bool enhanced) const
{
    const QByteArray codeText = QByteArray::number(code);
    const QByteArray st = enhanced ? statusFor(*this) : QByteArray();
    QByteArray out;
    out.reserve(text.size() + 16);
    qsizetype start = 0;
    for (;;) {
        const qsizetype nl = text.indexOf('\n', start);
        const bool last = nl < 0;
        const QByteArrayView line =
            QByteArrayView(text).sliced(start, (last ? text.size() : nl) - start);
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
    return out;
}

QByteArray SmtpReply::summary() const
{
    QByteArray out = QByteArray::number(code);
    if (!status.isEmpty())
        out.append(' ').append(status);
    const qsizetype nl = text.indexOf('\n');
    out.append(' ');
    appendSafe(out, QByteArrayView(text).first(nl < 0 ? text.size() : nl));
    return out;
}

} // namespace greygate
