// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QJsonObject>
#include <QString>

namespace greygate {

// What a timed release asks of a proxy (`release.create`, docs/api.md): who is let through,
// for how long and why. Built by the release dialog, sent by ReleaseListModel or the Queue
// page; validate() says in words what is missing before anything is sent, so the admin is
// not answered a protocol error for a form left half filled.
struct ReleaseRequest
{
    enum class Kind
    {
        Triplet, // one pending triplet: client network, sender, recipient
        Sender,  // that sender, to anyone
        Domain,  // the sender's domain, to anyone
        Expect,  // "expect mail from X (address or domain) to Y"
    };

    static constexpr qint64 kMinSeconds = 60; // the proxy's bounds for `for`
    static constexpr qint64 kMaxSeconds = 90 * 86400;
    static constexpr qsizetype kMaxReason = 500;

    Kind kind = Kind::Sender;
    QString client;    // triplet: the network as the queue lists it
    QString sender;    // triplet, sender; expect from an address
    QString domain;    // domain; expect from a domain
    QString recipient; // triplet, expect
    qint64 seconds = 3600;
    QString reason;

    static QString kindName(Kind kind);
    // An empty string when the request can be sent, else what to fix.
    QString validate() const;
    QJsonObject toParams() const;
    // "mail from a@b.example to c@corp.example", for confirmations and status lines.
    QString describe() const;
};

} // namespace greygate
