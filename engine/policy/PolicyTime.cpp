// SPDX-License-Identifier: GPL-3.0-or-later
#include "PolicyTime.h"

#include <QDateTime>
#include <QRegularExpression>
#include <QTimeZone>

namespace greygate {

QString PolicyTime::toIso(Seconds t)
{
    return QDateTime::fromSecsSinceEpoch(t, QTimeZone::utc())
        .toString(QStringLiteral("yyyy-MM-dd'T'HH:mm:ss'Z'"));
}

std::optional<Seconds> PolicyTime::fromIso(QStringView text)
{
    // Strict shape first: QDateTime's ISO reader is lenient about missing parts and zones.
    static const QRegularExpression shape(
        QStringLiteral(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$)"));
    if (text.size() > 40 || !shape.match(text).hasMatch())
        return std::nullopt;
    const QDateTime dt = QDateTime::fromString(text.toString(), Qt::ISODateWithMs);
    if (!dt.isValid())
        return std::nullopt;
    return dt.toSecsSinceEpoch();
}

} // namespace greygate
