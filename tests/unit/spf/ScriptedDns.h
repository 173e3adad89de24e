// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "dns/DnsLookup.h"

#include <QHash>
#include <QObject>
#include <QTimer>

namespace greygate {

// A DnsLookup that answers from a table (a test zone), synchronously or on the next event
// loop pass. A name not in the table is NXDOMAIN; a name marked failing is SERVFAIL.
class ScriptedDns final : public QObject, public DnsLookup
{
public:
    bool asynchronous = false;
    int queries = 0;
    QList<QByteArray> asked; // "name/TYPE", in order

    void addA(const QByteArray &name, const QByteArray &address)
    {
        add(name,
            QHostAddress(QString::fromLatin1(address)).protocol() == QAbstractSocket::IPv6Protocol
                ? DnsType::AAAA
                : DnsType::A,
            [&](DnsRecord &r) { r.address = QHostAddress(QString::fromLatin1(address)); });
    }
    void addTxt(const QByteArray &name, const QByteArray &text)
    {
        add(name, DnsType::TXT, [&](DnsRecord &r) { r.text = text; });
    }
    void addMx(const QByteArray &name, quint16 preference, const QByteArray &exchange)
    {
        add(name, DnsType::MX, [&](DnsRecord &r) {
            r.preference = preference;
            r.target = exchange;
        });
    }
    void addPtr(const QByteArray &name, const QByteArray &target)
    {
        add(name, DnsType::PTR, [&](DnsRecord &r) { r.target = target; });
    }
    // The name exists (no NXDOMAIN) even without records of a type.
    void addName(const QByteArray &name) { m_names.insert(name); }
    void fail(const QByteArray &name) { m_failing.insert(name); }

    void lookup(const QByteArray &name, DnsType type, Callback done) override
    {
        ++queries;
        const QByteArray lower = name.toLower();
        asked.append(lower + '/' + dnsTypeName(type));
        DnsAnswer answer;
        if (m_failing.contains(lower)) {
            answer.status = DnsAnswer::Status::ServerFailure;
            answer.error = "scripted SERVFAIL";
        } else if (!m_names.contains(lower)) {
            answer.status = DnsAnswer::Status::NxDomain;
        } else {
            answer.status = DnsAnswer::Status::Ok;
            answer.records = m_records.value(lower + '/' + QByteArray::number(quint16(type)));
        }
        if (asynchronous)
            QTimer::singleShot(0, this, [done = std::move(done), answer] { done(answer); });
        else
            done(answer);
    }

private:
    template <typename Fill> void add(const QByteArray &name, DnsType type, Fill fill)
    {
        DnsRecord r;
        r.name = name;
        r.type = type;
        r.ttl = 600;
        fill(r);
        m_names.insert(name);
        m_records[name + '/' + QByteArray::number(quint16(type))].append(r);
    }

    QSet<QByteArray> m_names;
    QSet<QByteArray> m_failing;
    QHash<QByteArray, QList<DnsRecord>> m_records;
};

} // namespace greygate
