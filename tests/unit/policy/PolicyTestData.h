// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "policy/PolicyIndex.h"
#include "policy/PolicyJson.h"

#include <QTest>

namespace greygate::test {

// 2027-01-15T08:00:00Z: a fixed "now" for every policy test.
constexpr Seconds kNow = 1'800'000'000;

// Example company: example.com (and its subdomains) inside, 10.0.0.0/8 and 2001:db8:a::/48
// its networks; a custom group "VIP" with one of each member kind.
inline QByteArray standardGroupsAndInternal()
{
    return QByteArrayLiteral(R"(
      "groups": [
        {"id": 1, "name": "VIP", "members": ["boss@partner.test", "@vip.test", "*.cdn.test",
                                             "198.51.100.0/24"]}
      ],
      "internal": {"domains": [{"domain": "example.com", "includeSubdomains": true}],
                   "networks": ["10.0.0.0/8", "2001:db8:a::/48"]})");
}

inline PolicyDocument documentWith(const QByteArray &policiesJson,
                                   const QByteArray &rest = standardGroupsAndInternal())
{
    const QByteArray json = "{\"policies\": [" + policiesJson + "], " + rest + "}";
    QString error;
    const std::optional<PolicyDocument> doc = PolicyJson::parse(json, &error);
    if (!doc)
        qFatal("test document refused: %s\n%s", qPrintable(error), json.constData());
    return *doc;
}

// Views, like PolicyQuery's own fields: a literal stays valid, where a QByteArray made from
// it would be a temporary gone at the end of the caller's statement.
inline PolicyQuery query(QByteArrayView client, QByteArrayView sender, QByteArrayView recipient,
                         Seconds now = kNow)
{
    PolicyQuery q;
    q.clientAddress = client;
    q.sender = sender;
    q.recipient = recipient;
    q.now = now;
    return q;
}

} // namespace greygate::test
