// SPDX-License-Identifier: GPL-3.0-or-later
#include "SenderGroup.h"

namespace greygate {

QString SenderGroup::kindName(GroupKind kind)
{
    switch (kind) {
    case GroupKind::Custom:
        return QStringLiteral("custom");
    case GroupKind::Permitted:
        return QStringLiteral("permitted");
    case GroupKind::Blocked:
        return QStringLiteral("blocked");
    }
    return {};
}

bool SenderGroup::kindFromName(QStringView name, GroupKind *kind)
{
    for (GroupKind k : {GroupKind::Custom, GroupKind::Permitted, GroupKind::Blocked}) {
        if (name == kindName(k)) {
            *kind = k;
            return true;
        }
    }
    return false;
}

GroupKind SenderGroup::kindForName(QStringView name)
{
    if (name.compare(u"Permitted Senders", Qt::CaseInsensitive) == 0)
        return GroupKind::Permitted;
    if (name.compare(u"Blocked Senders", Qt::CaseInsensitive) == 0)
        return GroupKind::Blocked;
    return GroupKind::Custom;
}

} // namespace greygate
