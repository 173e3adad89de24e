// SPDX-License-Identifier: GPL-3.0-or-later
#include "EngineControl.h"

namespace greygate {

QString EngineControl::stateName(State state)
{
    switch (state) {
    case State::Stopped:
        return tr("stopped");
    case State::Starting:
        return tr("starting");
    case State::Running:
        return tr("running");
    case State::Stopping:
        return tr("stopping");
    case State::Failed:
        return tr("failed");
    }
    return {};
}

} // namespace greygate
