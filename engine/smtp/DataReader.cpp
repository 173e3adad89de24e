// SPDX-License-Identifier: GPL-3.0-or-later
#include "DataReader.h"

namespace greygate {

DataReader::DataReader(qint64 maxSize, bool normaliseBareLf)
    : m_maxSize(maxSize)
    , m_normalise(normaliseBareLf)
{
    // m_line is reserved on its first use: whole lines are checked in place (wholeLines()),
    // so a message that arrives in whole lines never needs it.
}

void DataReader::restart(qint64 maxSize)
{
    reset();
    m_maxSize = maxSize;
}

void DataReader::reset()
{
    m_line.resize(0); // its capacity kept for the next message
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

qsizetype DataReader::wholeLines(const char *p, qsizetype i, qsizetype n, QByteArray *out,
                                 bool *end)
{
    // Lines that are whole in the input, end with CRLF and hold no bare CR, bare LF or NUL
    // and fit in 1000 bytes (nearly all of them) are checked in place and copied in runs:
    // a line is its own un-stuffed form but for a leading dot, so a run is cut only there.
    // Whatever this does not take (a partial line, an error, a size limit reached, the dot
    // after a line that did not end with CRLF) the byte-wise path below takes as before.
    qsizetype run = i;
    while (i < n) {
        qsizetype j = i;
        while (j < n && p[j] != '\r' && p[j] != '\n' && p[j] != '\0')
            ++j;
        const qsizetype length = j - i;
        if (j + 1 >= n || p[j] != '\r' || p[j + 1] != '\n' || length > kMaxLine - 2)
            break;
        if (length == 1 && p[i] == '.') {
            if (!m_prevStrict)
                break;
            out->append(p + run, i - run);
            *end = true;
            return j + 2;
        }
        const qsizetype skip = length > 0 && p[i] == '.' ? 1 : 0;
        const qsizetype bytes = length - skip + 2;
        if (m_maxSize > 0 && m_size + bytes > m_maxSize)
            break;
        if (skip) {
            out->append(p + run, i - run);
            run = i + 1;
        }
        m_size += bytes;
        m_prevStrict = true;
        i = j + 2;
    }
    out->append(p + run, i - run);
    return i;
}

DataReader::Status DataReader::feed(QByteArrayView input, qsizetype *consumed, QByteArray *out)
{
    const char *p = input.data();
    const qsizetype n = input.size();
    qsizetype i = 0;
    if (out->capacity() - out->size() < n)
        out->reserve(out->size() + n); // about what the input holds: one allocation
    while (i < n) {
        if (m_line.isEmpty() && !m_pendingCr && !m_lineTooLong && m_error == Error::None) {
            bool end = false;
            i = wholeLines(p, i, n, out, &end);
            if (end) {
                *consumed = i;
                return Status::End;
            }
            if (i == n)
                break;
        }
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
            if (m_line.capacity() < kMaxLine)
                m_line.reserve(kMaxLine); // once: a line grows in pieces up to this
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
