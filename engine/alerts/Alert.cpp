// SPDX-License-Identifier: GPL-3.0-or-later
#include "Alert.h"

namespace greygate {

QJsonObject Alert::toJson() const
{
    return QJsonObject{{QStringLiteral("id"), qint64(id)},   {QStringLiteral("time"), time},
                       {QStringLiteral("kind"), kind},       {QStringLiteral("subject"), subject},
                       {QStringLiteral("message"), message}, {QStringLiteral("cleared"), cleared},
                       {QStringLiteral("value"), value},     {QStringLiteral("baseline"), baseline},
                       {QStringLiteral("proxy"), proxy}};
}

} // namespace greygate
