// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QList>

// DNS answers written byte by byte for the tests, independently of DnsMessage's own code.
namespace dnswire {

inline void put16(QByteArray &out, quint16 v)
{
    out.append(char(v >> 8)).append(char(v & 0xff));
}

inline void put32(QByteArray &out, quint32 v)
{
    put16(out, quint16(v >> 16));
    put16(out, quint16(v & 0xffff));
}

inline QByteArray name(const QByteArray &dotted)
{
    QByteArray out;
    for (const QByteArray &label : dotted.split('.')) {
        if (label.isEmpty())
            continue;
        out.append(char(label.size())).append(label);
    }
    return out.append('\0');
}

struct Rr
{
    quint16 type;
    quint32 ttl;
    QByteArray rdata;
    QByteArray owner; // empty: a pointer to the question's name
};

inline QByteArray txt(const QList<QByteArray> &strings)
{
    QByteArray out;
    for (const QByteArray &s : strings)
        out.append(char(s.size())).append(s);
    return out;
}

inline QByteArray a(const char *address)
{
    QByteArray out;
    put32(out, QHostAddress(QString::fromLatin1(address)).toIPv4Address());
    return out;
}

inline QByteArray soa(quint32 minimum)
{
    QByteArray out = name("ns.example.com") + name("hostmaster.example.com");
    for (int i = 0; i < 4; ++i)
        put32(out, 100);
    put32(out, minimum);
    return out;
}

// The question section of a query (its bytes after the header, without the OPT record).
inline QByteArray questionOf(const QByteArray &query)
{
    qsizetype pos = 12;
    while (pos < query.size() && query[pos] != '\0')
        pos += 1 + quint8(query[pos]);
    return query.mid(12, pos + 1 + 4 - 12);
}

inline QByteArray answer(const QByteArray &query, quint8 rcode, const QList<Rr> &answers,
                         const QList<Rr> &authority = {}, bool truncated = false)
{
    QByteArray out;
    out.append(query.left(2));
    put16(out, quint16(0x8180 | rcode | (truncated ? 0x0200 : 0)));
    put16(out, 1);
    put16(out, quint16(answers.size()));
    put16(out, quint16(authority.size()));
    put16(out, 0);
    out.append(questionOf(query));
    for (const QList<Rr> *section : {&answers, &authority}) {
        for (const Rr &rr : *section) {
            if (rr.owner.isEmpty())
                put16(out, 0xc00c);
            else
                out.append(name(rr.owner));
            put16(out, rr.type);
            put16(out, 1);
            put32(out, rr.ttl);
            put16(out, quint16(rr.rdata.size()));
            out.append(rr.rdata);
        }
    }
    return out;
}

} // namespace dnswire
