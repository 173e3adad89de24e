// SPDX-License-Identifier: GPL-3.0-or-later
#include "Methods.h"

#include <array>

namespace greygate::protocol {

namespace {

constexpr std::array<Methods::Method, 54> kMethods = {{
    {u"auth", Access::Anyone},
    {u"hello", Access::Read},
    {u"status", Access::Read},
    {u"stats", Access::Read},
    {u"stats.breakdown", Access::Read},
    {u"queue.list", Access::Read},
    {u"queue.release", Access::Write},
    {u"queue.delete", Access::Write},
    {u"queue.permit", Access::Write},
    {u"rejections.list", Access::Read},
    {u"policy.list", Access::Read},
    {u"policy.get", Access::Read},
    {u"policy.create", Access::Write},
    {u"policy.update", Access::Write},
    {u"policy.delete", Access::Write},
    {u"policy.import", Access::Write},
    {u"policy.export", Access::Read},
    {u"policy.explain", Access::Read},
    {u"policy.replay", Access::Read},
    {u"policy.versions", Access::Read},
    {u"policy.version.get", Access::Read},
    {u"policy.version.diff", Access::Read},
    {u"policy.rollback", Access::Write},
    {u"group.list", Access::Read},
    {u"group.get", Access::Read},
    {u"group.create", Access::Write},
    {u"group.update", Access::Write},
    {u"group.delete", Access::Write},
    {u"group.members.add", Access::Write},
    {u"group.members.remove", Access::Write},
    {u"group.import", Access::Write},
    {u"group.export", Access::Read},
    {u"autoallow.list", Access::Read},
    {u"autoallow.add", Access::Write},
    {u"autoallow.remove", Access::Write},
    {u"audit.list", Access::Read},
    {u"release.create", Access::Write},
    {u"release.list", Access::Read},
    {u"release.revoke", Access::Write},
    {u"release.audit", Access::Read},
    {u"delay.stats", Access::Read},
    {u"triage.list", Access::Read},
    {u"alerts.list", Access::Read},
    {u"poolretry.list", Access::Read},
    {u"poolbypass.list", Access::Read},
    {u"poolbypass.add", Access::Write},
    {u"poolbypass.remove", Access::Write},
    {u"rewriting.list", Access::Read},
    {u"rewriting.set", Access::Write},
    {u"rewriting.test", Access::Read},
    {u"events.subscribe", Access::Read},
    {u"events.unsubscribe", Access::Read},
    {u"report", Access::Read},
    {u"ping", Access::Read},
}};

} // namespace

const Methods::Method *Methods::find(QStringView name)
{
    for (const Method &m : kMethods) {
        if (m.name == name)
            return &m;
    }
    return nullptr;
}

QStringList Methods::names()
{
    QStringList out;
    for (const Method &m : kMethods)
        out.append(m.name.toString());
    return out;
}

} // namespace greygate::protocol
