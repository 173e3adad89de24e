// SPDX-License-Identifier: GPL-3.0-or-later
#include "DataReader.h"

namespace greygate {

DataReader::DataReader(qint64 maxSize, bool normaliseBareLf)
    : m_maxSize(maxSize)
    , m_normalise(normaliseBareLf)
{
    m_line.reserve(kMaxLine);
}

void DataReader::reset()
{
    m_line.clear();
    m_lineTooLong = false;
    m_pendingCr = false;
    m_prevStrict = true;
    m_size = 0;
    m_error = Error::None;
}

void DataReader::fail(Error e)
{
    if (m_error == Error::None)
        m_error = e;
}

bool DataReader::endLine(bool strict, QByteArray *out)
{
    const bool dotLine = m_line.size() == 1 && m_line[0] == '.';
    if (dotLine && strict && m_prevStrict && !m_lineTooLong)
        return true;
    m_prevStrict = strict;
    if (m_lineTooLong)
        fail(Error::LineTooLong);
    // A lone "." that is not the end (normalise mode) stays a dot: it is content.
    const qsizetype skip = !dotLine && m_line.startsWith('.') ? 1 : 0;
    const qsizetype bytes = m_line.size() - skip + 2;
    m_size += bytes;
    if (m_maxSize > 0 && m_size > m_maxSize)
        fail(Error::TooBig);
    if (m_error == Error::None)
        out->append(QByteArrayView(m_line).sliced(skip)).append("\r\n");
    m_line.clear();
    m_lineTooLong = false;
    return false;
}

DataReader::Status DataReader::feed(QByteArrayView input, qsizetype *consumed, QByteArray *out)
{
    const char *p = input.data();
    const qsizetype n = input.size();
    qsizetype i = 0;
    while (i < n) {
        if (m_pendingCr) {
            m_pendingCr = false;
            if (p[i] == '\n') {
                ++i;
                if (endLine(true, out)) {
                    *consumed = i;
                    return Status::End;
                }
                continue;
            }
            if (!m_normalise) {
                m_error = Error::BareCr; // fatal: wins over an earlier error
                *consumed = i;
                return Status::Fatal;
            }
            endLine(false, out); // a bare CR ends a line, never the message
        }
        // The run of ordinary bytes up to the next CR, LF or NUL, appended at once.
        qsizetype j = i;
        while (j < n && p[j] != '\r' && p[j] != '\n' && p[j] != '\0')
            ++j;
        if (j > i) {
            const qsizetype room = kMaxLine - 2 - m_line.size();
            if (j - i > room) {
                m_lineTooLong = true;
                if (room > 0)
                    m_line.append(p + i, room);
            } else {
                m_line.append(p + i, j - i);
            }
            i = j;
        }
        if (i == n)
            break;
        const char c = p[i++];
        if (c == '\r') {
            m_pendingCr = true;
        } else if (c == '\n') {
            if (!m_normalise) {
                m_error = Error::BareLf; // fatal: wins over an earlier error
                *consumed = i;
                return Status::Fatal;
            }
            endLine(false, out);
        } else {                  // NUL
            m_error = Error::Nul; // fatal: wins over an earlier error
            *consumed = i;
            return Status::Fatal;
        }
    }
    *consumed = n;
    return Status::NeedMore;
}

} // namespace greygate
