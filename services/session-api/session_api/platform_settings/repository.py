"""All SQL of the platform settings session-api keeps."""

from __future__ import annotations

from session_api.models import PlatformSetting
from session_api.repository import Repository


class PlatformSettingRepository(Repository[PlatformSetting]):
    model = PlatformSetting

    async def current(self, *, for_update: bool = False) -> PlatformSetting | None:
        return await self.get_by_id(1, for_update=for_update)
