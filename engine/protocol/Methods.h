// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>
#include <QStringList>

namespace greygate::protocol {

// Who may call a method: the read-only (monitoring) token reads, only the admin token changes.
enum class Access : quint8
{
    Anyone, // before authentication: "auth" itself
    Read,
    Write,
};

// The methods of control API version kApiVersion (docs/api.md, "Methods").
class Methods
{
public:
    static constexpr int kApiVersion = 1;

    struct Method
    {
        QStringView name;
        Access access;
    };

    // nullptr for a method this version does not have.
    static const Method *find(QStringView name);
    static QStringList names();
};

} // namespace greygate::protocol
