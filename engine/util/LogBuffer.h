// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArrayView>
#include <QtGlobal>
#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <memory>

namespace greygate {

// The bytes of log lines: on the stack while they fit (a typical line does), on the heap
// beyond, the capacity kept by clear(). A writer makes room once per field with reserveMore()
// and writes through the pointer it gets, then commit()s: QVarLengthArray's resize() and
// append() made an out-of-line call per field, which a passed decision paid a dozen times.
class LogBuffer
{
public:
    static constexpr qsizetype kInline = 256;

    LogBuffer() = default;
    LogBuffer(const LogBuffer &other) { append(other.constData(), other.size()); }
    LogBuffer(LogBuffer &&other) noexcept { take(other); }
    LogBuffer &operator=(const LogBuffer &other)
    {
        if (this != &other) {
            clear();
            append(other.constData(), other.size());
        }
        return *this;
    }
    LogBuffer &operator=(LogBuffer &&other) noexcept
    {
        if (this != &other) {
            m_heap.reset();
            take(other);
        }
        return *this;
    }
    ~LogBuffer() = default;

    const char *constData() const { return m_data; }
    char *data() { return m_data; }
    qsizetype size() const { return m_size; }
    bool isEmpty() const { return m_size == 0; }
    QByteArrayView view() const { return QByteArrayView(m_data, m_size); }
    void clear() { m_size = 0; }

    // Room for `n` more bytes: where they go. commit() then says where the writer stopped.
    char *reserveMore(qsizetype n)
    {
        if (n > m_capacity - m_size)
            grow(n);
        return m_data + m_size;
    }
    void commit(const char *end) { m_size = end - m_data; }

    void append(const char *bytes, qsizetype n)
    {
        char *to = reserveMore(n);
        if (n > 0)
            std::memcpy(to, bytes, size_t(n));
        m_size += n;
    }
    void append(char c)
    {
        *reserveMore(1) = c;
        ++m_size;
    }
    // The parts one after the other, with one capacity check. No part may point into this.
    void append(std::initializer_list<QByteArrayView> parts)
    {
        qsizetype total = 0;
        for (const QByteArrayView part : parts)
            total += part.size();
        char *to = reserveMore(total);
        for (const QByteArrayView part : parts) {
            if (!part.isEmpty())
                std::memcpy(to, part.data(), size_t(part.size()));
            to += part.size();
        }
        m_size += total;
    }

private:
    Q_NEVER_INLINE void grow(qsizetype n)
    {
        const qsizetype capacity = std::max(2 * m_capacity, m_size + n);
        auto heap = std::make_unique_for_overwrite<char[]>(size_t(capacity));
        if (m_size > 0)
            std::memcpy(heap.get(), m_data, size_t(m_size));
        m_heap = std::move(heap);
        m_data = m_heap.get();
        m_capacity = capacity;
    }

    // Leaves `other` empty, back on its own inline bytes; this has no heap block of its own.
    void take(LogBuffer &other) noexcept
    {
        if (other.m_heap) {
            m_heap = std::move(other.m_heap);
            m_data = m_heap.get();
            m_capacity = other.m_capacity;
        } else {
            m_data = m_inline;
            m_capacity = kInline;
            if (other.m_size > 0)
                std::memcpy(m_inline, other.m_inline, size_t(other.m_size));
        }
        m_size = other.m_size;
        other.m_data = other.m_inline;
        other.m_capacity = kInline;
        other.m_size = 0;
    }

    char m_inline[kInline];
    std::unique_ptr<char[]> m_heap;
    char *m_data = m_inline;
    qsizetype m_size = 0;
    qsizetype m_capacity = kInline;
};

} // namespace greygate
