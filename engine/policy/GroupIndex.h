// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "CidrSet.h"
#include "MailAddress.h"
#include "SenderGroup.h"

#include <QHash>
#include <QVarLengthArray>
#include <algorithm>

namespace greygate {

// Every group's members folded into one set of hash tables, so that the groups holding an
// address are found with one lookup for the address, one for its domain and one per parent
// label, whatever the number of groups and members. The answer is a bit set over groups
// (GroupIndex numbering), which a policy tests in one instruction.
class GroupIndex
{
public:
    using Bits = QVarLengthArray<quint64, 4>; // 256 groups before it touches the heap

    GroupIndex() = default;
    explicit GroupIndex(const QList<SenderGroup> &groups);

    int count() const { return int(m_groups.size()); }
    int indexOf(qint64 groupId) const { return m_indexOfId.value(groupId, -1); }
    const SenderGroup &group(int index) const { return m_groups[index]; }

    Bits emptyBits() const;
    // *bits as emptyBits() gives them, in place: a decision's facts fill four sets each,
    // and a returned array was built then copied into the member (inline storage).
    void resetBits(Bits *bits) const
    {
        bits->resize((m_groups.size() + 63) / 64 + 1);
        std::fill(bits->begin(), bits->end(), quint64(0));
    }
    static bool test(const Bits &bits, int index)
    {
        return index >= 0 && (bits[index >> 6] >> (index & 63)) & 1;
    }
    // The groups with an address, @domain or *.domain member holding the address.
    void addGroupsOfAddress(const MailAddress::Lowered &address, Bits *bits) const;
    // The groups with a network member holding the client address.
    void addGroupsOfClient(const IpAddress &client, Bits *bits) const;
    // Groups of one kind, as bits.
    const Bits &kindBits(GroupKind kind) const { return m_kindBits[int(kind)]; }

    // Slow path for explain(): the first member of the group that holds the address or
    // client ("" if none).
    QString matchingMember(int index, const MailAddress::Lowered *address,
                           const IpAddress *client) const;

private:
    static void add(QHash<QByteArray, QList<int>> &table, const QString &key, int index);
    static void set(Bits *bits, const QList<int> &indexes);

    QList<SenderGroup> m_groups;
    QHash<qint64, int> m_indexOfId;
    QHash<QByteArray, QList<int>> m_addresses;
    QHash<QByteArray, QList<int>> m_domains;
    QHash<QByteArray, QList<int>> m_subdomains;
    CidrSet m_networks;
    Bits m_kindBits[3];
};

} // namespace greygate
