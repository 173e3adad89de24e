// SPDX-License-Identifier: GPL-3.0-or-later
#include "GroupIndex.h"

namespace greygate {

GroupIndex::GroupIndex(const QList<SenderGroup> &groups)
    : m_groups(groups)
{
    for (Bits &b : m_kindBits)
        b = emptyBits();
    for (int i = 0; i < m_groups.size(); ++i) {
        const SenderGroup &g = m_groups[i];
        m_indexOfId.insert(g.id, i);
        m_kindBits[int(g.kind)][i >> 6] |= quint64(1) << (i & 63);
        for (const GroupMember &m : g.members) {
            switch (m.kind) {
            case GroupMember::Kind::Address:
                add(m_addresses, m.value, i);
                break;
            case GroupMember::Kind::Domain:
                add(m_domains, m.value, i);
                break;
            case GroupMember::Kind::Subdomains:
                add(m_subdomains, m.value, i);
                break;
            case GroupMember::Kind::Network:
                m_networks.insert(m.network, i);
                break;
            }
        }
    }
}

void GroupIndex::add(QHash<QByteArray, QList<int>> &table, const QString &key, int index)
{
    QList<int> &list = table[key.toUtf8()];
    if (!list.contains(index))
        list.append(index);
}

void GroupIndex::set(Bits *bits, const QList<int> &indexes)
{
    for (int i : indexes)
        (*bits)[i >> 6] |= quint64(1) << (i & 63);
}

GroupIndex::Bits GroupIndex::emptyBits() const
{
    Bits bits;
    resetBits(&bits); // +1 word: never empty, test() stays in range
    return bits;
}

void GroupIndex::addGroupsOfAddress(const MailAddress::Lowered &address, Bits *bits) const
{
    if (!address.valid() || address.isNull())
        return;
    if (!m_addresses.isEmpty()) {
        const auto it = m_addresses.constFind(address.addressKey());
        if (it != m_addresses.cend())
            set(bits, *it);
    }
    const QByteArrayView domain = address.domain();
    if (domain.isEmpty())
        return;
    if (!m_domains.isEmpty()) {
        const auto it = m_domains.constFind(address.domainKey());
        if (it != m_domains.cend())
            set(bits, *it);
    }
    if (m_subdomains.isEmpty())
        return;
    for (qsizetype dot = domain.indexOf('.'); dot >= 0; dot = domain.indexOf('.', dot + 1)) {
        const QByteArrayView parent = domain.sliced(dot + 1);
        const auto it =
            m_subdomains.constFind(QByteArray::fromRawData(parent.data(), parent.size()));
        if (it != m_subdomains.cend())
            set(bits, *it);
    }
}

void GroupIndex::addGroupsOfClient(const IpAddress &client, Bits *bits) const
{
    m_networks.forEachMatch(
        client, [bits](int, int index) { (*bits)[index >> 6] |= quint64(1) << (index & 63); });
}

QString GroupIndex::matchingMember(int index, const MailAddress::Lowered *address,
                                   const IpAddress *client) const
{
    const QByteArrayView addr =
        address && address->valid() && !address->isNull() ? address->address() : QByteArrayView();
    const QByteArrayView domain = addr.isEmpty() ? QByteArrayView() : address->domain();
    for (const GroupMember &m : m_groups[index].members) {
        const QByteArray value = m.value.toUtf8();
        bool hit = false;
        switch (m.kind) {
        case GroupMember::Kind::Address:
            hit = !addr.isEmpty() && addr == value;
            break;
        case GroupMember::Kind::Domain:
            hit = !domain.isEmpty() && domain == value;
            break;
        case GroupMember::Kind::Subdomains:
            hit = MailAddress::strictSubdomain(domain, value);
            break;
        case GroupMember::Kind::Network:
            hit = client && m.network.contains(*client);
            break;
        }
        if (hit)
            return m.text();
    }
    return {};
}

} // namespace greygate
